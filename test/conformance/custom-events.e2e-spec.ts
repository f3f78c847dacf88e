import { Module } from '@nestjs/common';
import { IsInt, IsOptional, ValidateBy } from 'class-validator';
import { CouponEventsModule } from '../../examples/coupon-events.module.js';
import { Role } from '../../src/protocol/index.js';
import { FlowEventDto } from '../../src/relay/dto/flow-events.dto.js';
import { PaymentFlowService } from '../../src/relay/flow/payment-flow.service.js';
import { RelayModule } from '../../src/relay/relay.module.js';
import { describeEachStore } from '../support/stores.js';
import { openRoom } from '../support/room-fixture.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

/** A DTO whose validator throws, to reach the server's unexpected-error path. */
class BrokenCheckDto extends FlowEventDto {
  @ValidateBy({
    name: 'explodes',
    validator: {
      validate: () => {
        throw new Error('validator bug with a secret detail');
      },
    },
  })
  probe?: string;
}

@Module({
  imports: [
    RelayModule.forFeature([
      {
        name: 'BROKEN_CHECK',
        dto: BrokenCheckDto,
        roles: [Role.PAYER],
        effect: {},
      },
    ]),
  ],
})
class BrokenCheckModule {}

await describeEachStore('application flow events', (store) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer(store.environment(), [
      CouponEventsModule,
      BrokenCheckModule,
    ]);
  });
  afterAll(() => server.close());

  it('relays a registered event with its validated fields', async () => {
    const room = await openRoom(server.wsUrl);
    const ack = await room.payer.request('COUPON_APPLIED', {
      roomId: room.roomId,
      code: 'BLACK-FRIDAY',
    });
    expect(ack).toMatchObject({ event: 'COUPON_APPLIED', seq: 1 });
    expect((await room.creator.next('COUPON_APPLIED')).data).toMatchObject({
      seq: 1,
      code: 'BLACK-FRIDAY',
      from: { role: 'PAYER' },
    });
    await room.close();
  });

  it('validates a registered event with its own DTO', async () => {
    const room = await openRoom(server.wsUrl);
    const error = await room.payer.expectError('COUPON_APPLIED', {
      roomId: room.roomId,
      code: 'lower',
    });
    expect(error).toMatchObject({
      code: 'VALIDATION_FAILED',
      event: 'COUPON_APPLIED',
    });
    await room.close();
  });

  it('applies the registered roles and effect', async () => {
    const room = await openRoom(server.wsUrl);
    const forbidden = await room.creator.expectError('COUPON_APPLIED', {
      roomId: room.roomId,
      code: 'X',
    });
    expect(forbidden.code).toBe('FORBIDDEN');

    await room.payer.request('CLICKED_PAY', { roomId: room.roomId });
    await room.payer.request('PAYMENT_SUCCESS', { roomId: room.roomId });
    const late = await room.payer.expectError('COUPON_APPLIED', {
      roomId: room.roomId,
      code: 'X',
    });
    expect(late.code).toBe('INVALID_TRANSITION');
    await room.close();
  });

  it('answers an unexpected failure with a generic INTERNAL_ERROR', async () => {
    const room = await openRoom(server.wsUrl);
    const error = await room.payer.expectError('BROKEN_CHECK', {
      roomId: room.roomId,
      probe: 'x',
    });
    expect(error).toEqual({
      code: 'INTERNAL_ERROR',
      message: 'Internal error',
      event: 'BROKEN_CHECK',
    });
    await room.payer.sync();
    await room.close();
  });
});

describe(PaymentFlowService.name, () => {
  const flow = new PaymentFlowService();

  it.each([
    ['a lower-case name', 'coupon_applied'],
    ['a reserved name', 'JOIN_ROOM'],
    ['a server message name', 'ACK'],
    ['a built-in name', 'CLICKED_PAY'],
  ])('rejects %s', (_, name) => {
    expect(() =>
      flow.register({
        name,
        dto: FlowEventDto,
        roles: [Role.PAYER],
        effect: {},
      }),
    ).toThrow(name);
  });

  it('rejects a DTO that does not extend FlowEventDto', () => {
    class Plain {}
    expect(() =>
      flow.register({
        name: 'PLAIN_EVENT',
        dto: Plain as typeof FlowEventDto,
        roles: [Role.PAYER],
        effect: {},
      }),
    ).toThrow('must extend FlowEventDto');
  });

  it('rejects a verified effect', () => {
    expect(() =>
      flow.register({
        name: 'SELF_VERIFIED',
        dto: FlowEventDto,
        roles: [Role.PAYER],
        effect: { verified: true },
      }),
    ).toThrow('only results from the payment backend');
  });

  it('rejects a DTO field the server sets', () => {
    class ForgedSeqDto extends FlowEventDto {
      @IsOptional()
      @IsInt()
      seq?: number;
    }
    expect(() =>
      flow.register({
        name: 'FORGED_SEQ',
        dto: ForgedSeqDto,
        roles: [Role.PAYER],
        effect: {},
      }),
    ).toThrow('declares seq');
  });

  it('rejects an event no role may send', () => {
    expect(() =>
      flow.register({
        name: 'NOBODY_SENDS',
        dto: FlowEventDto,
        roles: [],
        effect: {},
      }),
    ).toThrow('no role');
  });
});

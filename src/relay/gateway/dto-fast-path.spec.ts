import { ValidationPipe, type Type } from '@nestjs/common';
import {
  IsString,
  Validate,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import {
  ClickedPayDto,
  DataFilledDto,
  PaymentErrorDto,
  PaymentMethodChangedDto,
  PaymentSuccessDto,
} from '../dto/flow-events.dto.js';
import { JoinRoomDto } from '../dto/join-room.dto.js';
import { DtoFastPath } from './dto-fast-path.js';

@ValidatorConstraint({ async: true })
class AlwaysValidLater implements ValidatorConstraintInterface {
  validate(): Promise<boolean> {
    return Promise.resolve(true);
  }
}

class AsyncRuleDto {
  @IsString()
  @Validate(AlwaysValidLater)
  roomId!: string;
}

/** The full pipe with the relay's options, without the fast path. */
const fullPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  forbidUnknownValues: true,
  transform: true,
  transformOptions: { enableImplicitConversion: false },
  validationError: { target: false, value: true },
});

async function fullTransform(
  dto: Type<unknown>,
  value: object,
): Promise<{ ok: true; result: unknown } | { ok: false }> {
  try {
    const result: unknown = await fullPipe.transform(value, {
      type: 'body',
      metatype: dto,
    });
    return { ok: true, result };
  } catch {
    return { ok: false };
  }
}

/**
 * `accepted`: both accept and return equal instances; `rejected`: the full
 * pipe rejects and the fast path leaves it; `deferred`: the full pipe
 * accepts (after stripping a key) and the fast path leaves it.
 */
type Expected = 'accepted' | 'rejected' | 'deferred';

const CASES: [string, Type<unknown>, string, Expected][] = [
  [
    'method',
    PaymentMethodChangedDto,
    '{"roomId":"r1","method":"PIX","eventId":"e-1"}',
    'accepted',
  ],
  [
    'no eventId',
    PaymentMethodChangedDto,
    '{"roomId":"r1","method":"PIX"}',
    'accepted',
  ],
  [
    'null eventId',
    PaymentMethodChangedDto,
    '{"roomId":"r1","method":"PIX","eventId":null}',
    'accepted',
  ],
  [
    'lower-case method',
    PaymentMethodChangedDto,
    '{"roomId":"r1","method":"pix"}',
    'rejected',
  ],
  [
    'number method',
    PaymentMethodChangedDto,
    '{"roomId":"r1","method":5}',
    'rejected',
  ],
  ['missing method', PaymentMethodChangedDto, '{"roomId":"r1"}', 'rejected'],
  [
    'extra key',
    PaymentMethodChangedDto,
    '{"roomId":"r1","method":"PIX","card":"4111"}',
    'rejected',
  ],
  [
    'bad roomId',
    PaymentMethodChangedDto,
    '{"roomId":"r 1","method":"PIX"}',
    'rejected',
  ],
  [
    'constructor key',
    PaymentMethodChangedDto,
    '{"roomId":"r1","method":"PIX","constructor":1}',
    'deferred',
  ],
  [
    'nested object',
    PaymentMethodChangedDto,
    '{"roomId":"r1","method":{"a":1}}',
    'rejected',
  ],
  ['no fields', ClickedPayDto, '{"roomId":"r1"}', 'accepted'],
  [
    'fields',
    DataFilledDto,
    '{"roomId":"r1","fields":["name","card.number"]}',
    'accepted',
  ],
  [
    'bad field item',
    DataFilledDto,
    '{"roomId":"r1","fields":["ok","no spaces"]}',
    'rejected',
  ],
  [
    'number field item',
    DataFilledDto,
    '{"roomId":"r1","fields":[1]}',
    'rejected',
  ],
  [
    'object field item',
    DataFilledDto,
    '{"roomId":"r1","fields":[{"a":1}]}',
    'rejected',
  ],
  [
    'fields not array',
    DataFilledDto,
    '{"roomId":"r1","fields":"name"}',
    'rejected',
  ],
  [
    'success',
    PaymentSuccessDto,
    '{"roomId":"r1","transactionId":"t1","amount":1990,"currency":"BRL"}',
    'accepted',
  ],
  [
    'fractional amount',
    PaymentSuccessDto,
    '{"roomId":"r1","amount":19.9}',
    'rejected',
  ],
  [
    'negative amount',
    PaymentSuccessDto,
    '{"roomId":"r1","amount":-1}',
    'rejected',
  ],
  [
    'error',
    PaymentErrorDto,
    '{"roomId":"r1","code":"DECLINED","message":"no"}',
    'accepted',
  ],
  ['empty code', PaymentErrorDto, '{"roomId":"r1","code":""}', 'rejected'],
  [
    'join',
    JoinRoomDto,
    '{"roomId":"r1","role":"PAYER","lastSeq":3}',
    'accepted',
  ],
  ['join bad role', JoinRoomDto, '{"roomId":"r1","role":"ADMIN"}', 'rejected'],
  [
    'join bad expiry',
    JoinRoomDto,
    '{"roomId":"r1","role":"CREATOR","expiresAt":"tomorrow"}',
    'rejected',
  ],
];

describe(DtoFastPath.name, () => {
  const fastPath = new DtoFastPath();

  it.each(CASES)(
    'agrees with the full pipe: %s',
    async (_, dto, json, expected) => {
      const fast = fastPath.transform(dto, JSON.parse(json) as object);
      const full = await fullTransform(dto, JSON.parse(json) as object);

      expect(full.ok).toBe(expected !== 'rejected');
      if (expected === 'accepted') {
        expect(fast).toBeInstanceOf(dto);
        expect(fast).toEqual(full.ok && full.result);
      } else {
        expect(fast).toBeUndefined();
      }
    },
  );

  it('leaves async rules to the full pipe', () => {
    expect(fastPath.transform(AsyncRuleDto, { roomId: 'r1' })).toBeUndefined();
  });

  it('leaves a class without rules to the full pipe', () => {
    class NoRulesDto {}

    expect(fastPath.transform(NoRulesDto, {})).toBeUndefined();
  });
});

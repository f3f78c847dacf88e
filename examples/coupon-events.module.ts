import { Module } from '@nestjs/common';
import { IsString, Length, Matches } from 'class-validator';
// In an application of your own, import these from 'payment-relay'.
import { FlowEventDto, RelayModule, Role, RoomStatus } from '../src/index.js';

/** Data of `COUPON_APPLIED`: the coupon code the payer entered. */
export class CouponAppliedDto extends FlowEventDto {
  @IsString()
  @Length(1, 32)
  @Matches(/^[A-Z0-9-]+$/, {
    message: '$property must be upper-case letters, digits and -',
  })
  code!: string;
}

/**
 * An application's own flow event: the payer applied a coupon. One
 * registration is all it takes; the relay validates, orders, stores and
 * relays it like the built-in events.
 */
@Module({
  imports: [
    RelayModule.forFeature([
      {
        name: 'COUPON_APPLIED',
        dto: CouponAppliedDto,
        roles: [Role.PAYER],
        effect: { status: RoomStatus.IN_PROGRESS },
      },
    ]),
  ],
})
export class CouponEventsModule {}

import { Injectable, type PipeTransform } from '@nestjs/common';
import type { FlowEventDto } from '../dto/flow-events.dto.js';
import { PaymentFlowService } from '../flow/payment-flow.service.js';
import type { FlowMessage } from './flow-message.decorator.js';
import { RelayValidationPipe } from './relay-validation.pipe.js';

/** Validates a flow event's data with the DTO registered under its name. */
@Injectable()
export class FlowEventValidationPipe implements PipeTransform<
  FlowMessage,
  Promise<FlowMessage<FlowEventDto>>
> {
  private readonly validation = new RelayValidationPipe();

  constructor(private readonly flow: PaymentFlowService) {}

  async transform(message: FlowMessage): Promise<FlowMessage<FlowEventDto>> {
    const { dto } = this.flow.definitionOf(message.event);
    const data = (await this.validation.transform(message.data, {
      type: 'body',
      metatype: dto,
    })) as FlowEventDto;
    return { event: message.event, data };
  }
}

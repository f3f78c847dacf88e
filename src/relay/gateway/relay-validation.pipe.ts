import {
  Injectable,
  ValidationPipe,
  type ArgumentMetadata,
} from '@nestjs/common';
import type { ValidationError } from 'class-validator';
import { ErrorCode, type ErrorFieldDetail } from '../../protocol/index.js';
import { RelayException } from '../relay.exception.js';
import { DtoFastPath } from './dto-fast-path.js';

/** Maximum length of a rejected value shown in an error message. */
const MAX_SHOWN_VALUE_LENGTH = 64;

/**
 * Validates message data against its DTO: whitelisted properties only,
 * strict types (no implicit conversion), and a `VALIDATION_FAILED` error that
 * lists every failing field with the value it had.
 */
@Injectable()
export class RelayValidationPipe extends ValidationPipe {
  private readonly fastPath = new DtoFastPath();

  constructor() {
    super({
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: true,
      transform: true,
      transformOptions: { enableImplicitConversion: false },
      validationError: { target: false, value: true },
      stopAtFirstError: false,
      exceptionFactory: (errors) => toValidationException(errors),
    });
  }

  override async transform(
    value: unknown,
    metadata: ArgumentMetadata,
  ): Promise<unknown> {
    if (!metadata.metatype || !this.toValidate(metadata)) {
      return value;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new RelayException(
        ErrorCode.VALIDATION_FAILED,
        `"data" must be a JSON object, got ${describeType(value)}`,
        [{ field: 'data', messages: ['data must be a JSON object'] }],
      );
    }
    // `__proto__` as an own key would become the DTO's prototype during the
    // transformation and escape the whitelist, so it is rejected first.
    if (Object.hasOwn(value, '__proto__')) {
      throw new RelayException(
        ErrorCode.VALIDATION_FAILED,
        'property __proto__ should not exist',
        [
          {
            field: '__proto__',
            messages: ['property __proto__ should not exist'],
          },
        ],
      );
    }
    // Valid flat data is accepted with the DTO's rules applied directly;
    // everything else, every invalid value included, takes the full pipe.
    return (
      this.fastPath.transform(metadata.metatype, value) ??
      (await super.transform(value, metadata))
    );
  }
}

/** Builds the `VALIDATION_FAILED` exception from class-validator's errors. */
export function toValidationException(
  errors: ValidationError[],
): RelayException {
  const fields: ErrorFieldDetail[] = [];
  collectFields(errors, '', fields);
  const summary = fields.map((field) => field.messages.join('; ')).join('; ');
  return new RelayException(
    ErrorCode.VALIDATION_FAILED,
    `Invalid data: ${summary}`,
    fields,
  );
}

function collectFields(
  errors: ValidationError[],
  prefix: string,
  fields: ErrorFieldDetail[],
): void {
  for (const error of errors) {
    const field = prefix + error.property;
    const constraints = error.constraints ?? {};
    const messages = Object.entries(constraints).map(([rule, message]) =>
      // An unknown property may carry anything, a card number included, so
      // its value is never echoed.
      rule === 'whitelistValidation'
        ? message
        : `${message} (got ${showValue(error.value)})`,
    );
    if (messages.length > 0) {
      fields.push({ field, messages });
    }
    if (error.children?.length) {
      collectFields(error.children, `${field}.`, fields);
    }
  }
}

function showValue(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const shown = JSON.stringify(value) ?? typeof value;
  return shown.length > MAX_SHOWN_VALUE_LENGTH
    ? `${shown.slice(0, MAX_SHOWN_VALUE_LENGTH)}…`
    : shown;
}

function describeType(value: unknown): string {
  if (value === null) {
    return 'null';
  }
  if (Array.isArray(value)) {
    return 'an array';
  }
  return typeof value === 'undefined' ? 'nothing' : `a ${typeof value}`;
}

import type { Type } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { getMetadataStorage, type ValidationArguments } from 'class-validator';

/** Keys that Nest's `ValidationPipe` deletes before validating; a value with one takes the full path. */
const STRIPPED_KEYS = new Set(['__proto__', 'prototype', 'constructor']);

type MetadataStorage = ReturnType<typeof getMetadataStorage>;
type ValidationMetadata = ReturnType<
  MetadataStorage['getTargetValidationMetadatas']
>[number];
type ConstraintMetadata = ReturnType<
  MetadataStorage['getTargetValidatorConstraints']
>[number];

interface Rule {
  metadata: ValidationMetadata;
  constraints: ConstraintMetadata[];
}

interface PropertyRules {
  name: string;
  /** `@IsOptional` and `@ValidateIf`: the property's rules apply only when all return true. */
  conditions: ((object: object, value: unknown) => boolean)[];
  rules: Rule[];
}

/** Checks a DTO instance; `true` only when every rule of its class passes. */
type Check = (instance: Record<string, unknown>) => boolean;

/**
 * Accepts valid message data without class-validator's per-call metadata
 * lookups and promises. The DTO classes and their class-validator
 * decorators remain the definition: for each class the rules are read once
 * from class-validator's metadata storage and each message runs the same
 * constraint functions that `validate` would run, in the same way (whitelist,
 * conditions, `each`). The fast path never rejects anything: a value that it
 * cannot vouch for, valid or not, goes through the full `ValidationPipe`,
 * which also produces every error message.
 *
 * It only vouches for flat data (primitives and arrays of primitives,
 * without the keys that the pipe strips) and only for classes whose rules are
 * all synchronous constraints and conditions; any other class always takes
 * the full path.
 */
export class DtoFastPath {
  private readonly checks = new Map<Type<unknown>, Check | null>();

  /** Returns the DTO instance when `value` passes every rule, `undefined` otherwise. */
  transform(metatype: Type<unknown>, value: object): object | undefined {
    let check = this.checks.get(metatype);
    if (check === undefined) {
      check = compileCheck(metatype);
      this.checks.set(metatype, check);
    }
    if (check === null || !isFlat(value)) {
      return undefined;
    }
    const instance = plainToInstance(metatype, value, {
      enableImplicitConversion: false,
    }) as Record<string, unknown>;
    return check(instance) ? instance : undefined;
  }
}

/** Reads the class's rules as `ValidationExecutor` selects them without groups; `null` when one is not supported. */
function compileCheck(target: Type<unknown>): Check | null {
  const storage = getMetadataStorage();
  const metadatas = storage.getTargetValidationMetadatas(
    target,
    undefined as unknown as string,
    false,
    false,
  );
  if (metadatas.length === 0) {
    return null;
  }

  const properties = new Map<string, PropertyRules>();
  for (const metadata of metadatas) {
    let property = properties.get(metadata.propertyName);
    if (!property) {
      property = { name: metadata.propertyName, conditions: [], rules: [] };
      properties.set(metadata.propertyName, property);
    }
    if (metadata.type === 'conditionalValidation') {
      property.conditions.push(
        metadata.constraints[0] as (object: object, value: unknown) => boolean,
      );
    } else if (metadata.type === 'customValidation') {
      const constraints = storage.getTargetValidatorConstraints(
        metadata.constraintCls,
      );
      if (constraints.some((constraint) => constraint.async)) {
        return null;
      }
      property.rules.push({ metadata, constraints });
    } else if (metadata.type !== 'whitelistValidation') {
      return null;
    }
  }

  const allowed = new Set(properties.keys());
  const rules = [...properties.values()];
  return (instance) => {
    for (const key of Object.keys(instance)) {
      if (!allowed.has(key)) {
        return false;
      }
    }
    for (const property of rules) {
      const value = instance[property.name];
      if (!allConditionsHold(property, instance, value)) {
        continue;
      }
      for (const rule of property.rules) {
        if (!passes(target, property.name, rule, instance, value)) {
          return false;
        }
      }
    }
    return true;
  };
}

function allConditionsHold(
  property: PropertyRules,
  instance: object,
  value: unknown,
): boolean {
  // class-validator evaluates every condition, so this does too.
  let holds = true;
  for (const condition of property.conditions) {
    holds = condition(instance, value) && holds;
  }
  return holds;
}

function passes(
  target: Type<unknown>,
  propertyName: string,
  { metadata, constraints }: Rule,
  instance: object,
  value: unknown,
): boolean {
  if (metadata.validateIf && !metadata.validateIf(instance, value)) {
    return true;
  }
  const args: ValidationArguments = {
    targetName: target.name,
    property: propertyName,
    object: instance,
    value,
    constraints: metadata.constraints,
  };
  for (const constraint of constraints) {
    const validator = constraint.instance;
    if (!metadata.each || !Array.isArray(value)) {
      if (!isTrue(validator.validate(value, args))) {
        return false;
      }
      continue;
    }
    for (const item of value) {
      if (!isTrue(validator.validate(item, args))) {
        return false;
      }
    }
  }
  return true;
}

/** A truthy result that is not a promise: an async result is left to the full path. */
function isTrue(result: unknown): boolean {
  return Boolean(result) && !(result instanceof Promise);
}

function isPrimitive(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean'
  );
}

/** Tells whether the value holds only primitives and arrays of primitives, under ordinary keys. */
function isFlat(value: object): boolean {
  for (const key of Object.keys(value)) {
    if (STRIPPED_KEYS.has(key)) {
      return false;
    }
    const field = (value as Record<string, unknown>)[key];
    if (isPrimitive(field)) {
      continue;
    }
    if (!Array.isArray(field) || !field.every(isPrimitive)) {
      return false;
    }
  }
  return true;
}

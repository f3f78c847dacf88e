import { Logger } from '@nestjs/common';
import { ValidationTypes, getMetadataStorage } from 'class-validator';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  ClientEvent,
  CloseCode,
  ErrorCode,
  FLOW_EVENTS,
  LeaveReason,
  ROLES,
  RoomCloseReason,
  RoomStatus,
  ServerEvent,
  type Frame,
} from '../../src/protocol/index.js';
import { PaymentFlowService } from '../../src/relay/flow/payment-flow.service.js';
import { FLOW_EVENT_PATTERN } from '../../src/relay/gateway/message-patterns.js';
import { PaymentGateway } from '../../src/relay/gateway/payment.gateway.js';
import { TestClient } from '../support/test-client.js';
import { startTestServer, type TestServer } from '../support/test-server.js';

type Schema = Record<string, unknown>;

/** Nest's metadata key for a `@SubscribeMessage` pattern (`MESSAGE_METADATA`). */
const MESSAGE_METADATA = 'message';

const DOCUMENT = parse(
  readFileSync(join(process.cwd(), 'docs/asyncapi.yaml'), 'utf8'),
) as Schema;

function resolve(ref: string): Schema {
  let node: unknown = DOCUMENT;
  for (const key of ref.replace(/^#\//, '').split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  if (node === undefined) {
    throw new Error(`unresolved $ref ${ref}`);
  }
  return node as Schema;
}

function deref(schema: Schema): Schema {
  return typeof schema.$ref === 'string' ? deref(resolve(schema.$ref)) : schema;
}

/** Collects every `$ref` value in a node, at any depth. */
function refsIn(node: unknown): string[] {
  if (Array.isArray(node)) {
    return node.flatMap(refsIn);
  }
  if (node === null || typeof node !== 'object') {
    return [];
  }
  return Object.entries(node).flatMap(([key, value]) =>
    key === '$ref' && typeof value === 'string' ? [value] : refsIn(value),
  );
}

interface DocumentedMessage {
  name: string;
  data?: Schema;
}

function operationMessages(operation: string): DocumentedMessage[] {
  const refs = (resolve(`#/operations/${operation}`).messages ??
    []) as Schema[];
  return refs.map((ref) => {
    const message = deref(ref);
    const payload = deref(message.payload as Schema);
    const data = (payload.properties as Record<string, Schema>).data;
    return {
      name: message.name as string,
      data: data.$ref ? deref(data) : undefined,
    };
  });
}

/** Properties and required names of an object schema, through `allOf`. */
function objectShape(schema: Schema): {
  properties: string[];
  required: string[];
} {
  const parts = ((schema.allOf as Schema[] | undefined) ?? [schema]).map(deref);
  return {
    properties: parts.flatMap((part) =>
      Object.keys((part.properties as Schema | undefined) ?? {}),
    ),
    required: parts.flatMap(
      (part) => (part.required as string[] | undefined) ?? [],
    ),
  };
}

function constsOf(schema: string): unknown[] {
  const node = resolve(`#/components/schemas/${schema}`);
  return (
    (node.enum as unknown[] | undefined) ??
    (node.oneOf as Schema[]).map((option) => option.const)
  );
}

/**
 * Checks a value against the subset of JSON Schema the document uses and
 * returns one line per violation.
 */
function violations(value: unknown, schema: Schema, path: string): string[] {
  const node = deref(schema);
  if (node.allOf) {
    const shape = objectShape(node);
    const merged: Schema = {
      type: 'object',
      properties: {},
      required: shape.required,
    };
    for (const part of (node.allOf as Schema[]).map(deref)) {
      Object.assign(merged.properties as Schema, part.properties ?? {});
    }
    return violations(value, merged, path);
  }
  const problems: string[] = [];
  if ('const' in node && value !== node.const) {
    problems.push(
      `${path}: expected ${String(node.const)}, got ${JSON.stringify(value)}`,
    );
  }
  if (node.enum && !(node.enum as unknown[]).includes(value)) {
    problems.push(`${path}: ${JSON.stringify(value)} is not in the enum`);
  }
  if (
    node.oneOf &&
    !(node.oneOf as Schema[]).some((option) => option.const === value)
  ) {
    problems.push(`${path}: ${JSON.stringify(value)} matches no oneOf option`);
  }
  switch (node.type) {
    case 'string': {
      const pattern = node.pattern as string | undefined;
      if (typeof value !== 'string') problems.push(`${path}: not a string`);
      else if (pattern && !new RegExp(pattern).test(value))
        problems.push(`${path}: "${value}" does not match ${pattern}`);
      break;
    }
    case 'integer':
      if (!Number.isInteger(value)) problems.push(`${path}: not an integer`);
      else if (
        typeof node.minimum === 'number' &&
        (value as number) < node.minimum
      )
        problems.push(`${path}: below ${node.minimum}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: not a boolean`);
      break;
    case 'array':
      if (!Array.isArray(value)) problems.push(`${path}: not an array`);
      else if (node.items)
        value.forEach((item, index) =>
          problems.push(
            ...violations(item, node.items as Schema, `${path}[${index}]`),
          ),
        );
      break;
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        problems.push(`${path}: not an object`);
        break;
      }
      const record = value as Record<string, unknown>;
      const properties = (node.properties ?? {}) as Record<string, Schema>;
      for (const name of (node.required as string[] | undefined) ?? []) {
        if (!(name in record)) problems.push(`${path}.${name}: missing`);
      }
      for (const [name, field] of Object.entries(record)) {
        if (properties[name]) {
          problems.push(
            ...violations(field, properties[name], `${path}.${name}`),
          );
        } else if (node.additionalProperties === false) {
          problems.push(`${path}.${name}: not documented`);
        }
      }
      break;
    }
  }
  return problems;
}

/** Validated properties of a DTO class, and those without `@IsOptional()`. */
function dtoShape(dto: new () => object): {
  properties: string[];
  required: string[];
} {
  const metadata = getMetadataStorage().getTargetValidationMetadatas(
    dto,
    '',
    true,
    false,
  );
  const properties = [...new Set(metadata.map((entry) => entry.propertyName))];
  const optional = new Set(
    metadata
      .filter((entry) => entry.type === ValidationTypes.CONDITIONAL_VALIDATION)
      .map((entry) => entry.propertyName),
  );
  return {
    properties,
    required: properties.filter((name) => !optional.has(name)),
  };
}

/** Gateway handlers by message name, with the DTO class each validates. */
function gatewayHandlers(): Map<string, (new () => object) | undefined> {
  const handlers = new Map<string, (new () => object) | undefined>();
  const prototype = PaymentGateway.prototype as unknown as Record<
    string,
    unknown
  >;
  for (const key of Object.getOwnPropertyNames(prototype)) {
    const pattern = Reflect.getMetadata(
      MESSAGE_METADATA,
      prototype[key] as object,
    ) as string | undefined;
    if (pattern === undefined || pattern === FLOW_EVENT_PATTERN) {
      continue;
    }
    const types = (Reflect.getMetadata('design:paramtypes', prototype, key) ??
      []) as (new () => object)[];
    const dto = types.find(
      (type) =>
        getMetadataStorage().getTargetValidationMetadatas(type, '', true, false)
          .length > 0,
    );
    handlers.set(pattern, dto);
  }
  return handlers;
}

const sorted = (values: Iterable<unknown>) => [...values].map(String).sort();

/** Records every frame a client receives, including those its waits take. */
function recordFrames(client: TestClient): Frame[] {
  const frames: Frame[] = [];
  client.socket.on('message', (data: Buffer) => {
    frames.push(JSON.parse(data.toString('utf8')) as Frame);
  });
  return frames;
}

// The flow service logs each built-in event at debug level when it is built.
Logger.overrideLogger(['error']);

describe('AsyncAPI document', () => {
  const flow = new PaymentFlowService();
  const received = operationMessages('receiveFromDevice');
  const sent = operationMessages('sendToDevice');

  it('is AsyncAPI 3 with every $ref resolvable', () => {
    expect(DOCUMENT.asyncapi).toBe('3.0.0');
    const unresolved = refsIn(DOCUMENT).filter((ref) => {
      try {
        resolve(ref);
        return false;
      } catch {
        return true;
      }
    });
    expect(unresolved).toEqual([]);
  });

  it('documents exactly the events the gateway accepts', () => {
    const accepted = [...gatewayHandlers().keys(), ...flow.eventNames()];
    expect(sorted(received.map((message) => message.name))).toEqual(
      sorted(accepted),
    );
    expect(sorted(accepted)).toEqual(sorted(Object.values(ClientEvent)));
  });

  it('documents exactly the messages the server sends', () => {
    expect(sorted(sent.map((message) => message.name))).toEqual(
      sorted([...Object.values(ServerEvent), ...FLOW_EVENTS]),
    );
  });

  it('matches the fields of every DTO', () => {
    const handlers = gatewayHandlers();
    for (const message of received) {
      const dto = handlers.has(message.name)
        ? handlers.get(message.name)
        : (flow.definitionOf(message.name).dto as new () => object);
      if (dto === undefined) {
        expect({ [message.name]: message.data }).toEqual({
          [message.name]: undefined,
        });
        continue;
      }
      const documented = objectShape(message.data ?? {});
      const code = dtoShape(dto);
      expect({ [message.name]: sorted(documented.properties) }).toEqual({
        [message.name]: sorted(code.properties),
      });
      expect({ [message.name]: sorted(documented.required) }).toEqual({
        [message.name]: sorted(code.required),
      });
    }
  });

  it('lists every code, status and reason', () => {
    expect(sorted(constsOf('ErrorCode'))).toEqual(
      sorted(Object.values(ErrorCode)),
    );
    expect(sorted(constsOf('CloseCode'))).toEqual(
      sorted(Object.values(CloseCode)),
    );
    expect(sorted(constsOf('RoomStatus'))).toEqual(
      sorted(Object.values(RoomStatus)),
    );
    expect(sorted(constsOf('Role'))).toEqual(sorted(ROLES));
    expect(sorted(constsOf('RoomCloseReason'))).toEqual(
      sorted(Object.values(RoomCloseReason)),
    );
    expect(sorted(constsOf('LeaveReason'))).toEqual(
      sorted(Object.values(LeaveReason)),
    );
  });

  describe('against a running server', () => {
    let server: TestServer;
    beforeAll(async () => {
      server = await startTestServer();
    });
    afterAll(() => server.close());

    it('accepts every documented client event', async () => {
      const client = await TestClient.connect(server.wsUrl);
      for (const message of received) {
        client.send(message.name, { roomId: 'asyncapi-unjoined' });
      }
      // The documented PING above gets the first PONG; this one marks the end.
      client.send('PING');
      await client.next('PONG');
      await client.next('PONG');
      const unknown = client
        .queued('ERROR')
        .filter(
          (frame) =>
            (frame.data as { code: string }).code === ErrorCode.UNKNOWN_EVENT,
        );
      expect(unknown).toEqual([]);
      await client.close();
    });

    it('describes every frame of a whole flow', async () => {
      const creator = await TestClient.connect(server.wsUrl);
      const payer = await TestClient.connect(server.wsUrl);
      const creatorFrames = recordFrames(creator);
      const payerFrames = recordFrames(payer);
      const roomId = 'asyncapi-room';
      await creator.join(roomId, 'CREATOR', { clientId: 'creator-1' });
      await payer.join(roomId, 'PAYER', { clientId: 'payer-1', lastSeq: 0 });
      await payer.request('ENTERED_SUMMARY', { roomId, eventId: 'e-1' });
      await payer.request('CLICKED_PROCEED', { roomId });
      await payer.request('PAYMENT_METHOD_CHANGED', { roomId, method: 'PIX' });
      await payer.request('DATA_FILLED', { roomId, fields: ['name'] });
      await payer.request('CLICKED_PAY', { roomId });
      await payer.request('PAYMENT_ERROR', {
        roomId,
        code: 'DECLINED',
        message: 'No funds',
      });
      await payer.request('CLICKED_PAY', { roomId });
      await payer.request('PAYMENT_SUCCESS', {
        roomId,
        transactionId: 't-1',
        amount: 100,
        currency: 'BRL',
      });
      await payer.request('ENTERED_SUMMARY', { roomId, eventId: 'e-1' });
      await payer.expectError('PAYMENT_METHOD_CHANGED', {
        roomId,
        method: 'lower',
      });
      await creator.sync();
      creator.send('RECEIVED', { roomId, seq: 8 });
      await payer.next('DELIVERED');
      await payer.sync();
      await creator.request('LEAVE_ROOM', { roomId }, 'ROOM_LEFT');
      await payer.sync();

      const frames = [...creatorFrames, ...payerFrames];
      const events = new Set(frames.map((frame) => frame.event));
      for (const expected of [
        'PEER_JOINED',
        'PEER_LEFT',
        'DELIVERED',
        'ERROR',
        'PAYMENT_SUCCESS',
      ]) {
        expect(events).toContain(expected);
      }
      const problems = frames.flatMap((frame) => {
        const candidates = sent.filter(
          (message) => message.name === frame.event,
        );
        if (candidates.length === 0) {
          return [`${frame.event}: not documented`];
        }
        const data = candidates[0].data ?? {};
        return violations(frame.data, data, frame.event);
      });
      expect(problems).toEqual([]);

      await creator.close();
      await payer.close();
    });

    it('describes ROOM_JOINED with missed events', async () => {
      const creator = await TestClient.connect(server.wsUrl);
      const payer = await TestClient.connect(server.wsUrl);
      await payer.join('asyncapi-missed', 'PAYER');
      await payer.request('ENTERED_SUMMARY', { roomId: 'asyncapi-missed' });
      creator.send('JOIN_ROOM', {
        roomId: 'asyncapi-missed',
        role: 'CREATOR',
        lastSeq: 0,
      });
      const joined = await creator.next('ROOM_JOINED');
      const schema =
        sent.find((message) => message.name === 'ROOM_JOINED')?.data ?? {};
      expect((joined.data as { missed: unknown[] }).missed).toHaveLength(1);
      expect(violations(joined.data, schema, 'ROOM_JOINED')).toEqual([]);
      await creator.close();
      await payer.close();
    });
  });
});

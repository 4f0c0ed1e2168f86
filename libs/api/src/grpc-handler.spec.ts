import 'reflect-metadata';
import { GrpcHandler, declaredHandlers } from './grpc-handler';

class Probe {
  constructor(private readonly tag: string) {}

  @GrpcHandler('KV', 'Range')
  range(req: unknown): string {
    return `${this.tag}:${String(req)}`;
  }

  get tagLength(): number {
    return this.tag.length;
  }

  notAHandler(): string {
    return 'no';
  }
}

it('declaredHandlers lists the GrpcHandler methods, bound to their controller', () => {
  const handlers = declaredHandlers(new Probe('p'));
  expect(handlers.map((h) => [h.service, h.method])).toEqual([['KV', 'Range']]);
  expect(handlers[0].call('r', undefined, undefined)).toBe('p:r');
});

import { EtcdError, GrpcCode } from '../../server/src';

/**
 * Runs a Lock or Election call. etcd 3.4 serves those through an embedded client, which turns
 * every status it meets (auth refusals included) into a plain error: the caller sees code
 * Unknown with etcd's message. Cairn answers the same way.
 */
export async function viaEmbeddedClient<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof EtcdError && err.code !== GrpcCode.UNKNOWN)
      throw new EtcdError(GrpcCode.UNKNOWN, err.message);
    throw err;
  }
}

import { describe } from 'node:test';
import { contractFixture, type ClusterEnv } from '../helpers/clusterContract.ts';
import { registryContract } from './cluster.suite.registry.ts';
import { rpcContract } from './cluster.suite.rpc.ts';
import { seatsContract } from './cluster.suite.seats.ts';
import { signingContract } from './cluster.suite.signing.ts';

export {
  captureLog,
  CLUSTER_SECRET,
  selfInfo,
  testMethods,
  TIMING,
  withHandlers,
  type CapturedLog,
  type ClusterEnv,
  type TestCluster,
} from '../helpers/clusterContract.ts';

/** The one contract both implementations (in process, Redis) pass; a fresh cluster per test. */
export function clusterSuite(name: string, makeEnv: () => Promise<ClusterEnv>): void {
  describe(`cluster contract: ${name}`, () => {
    const fixture = contractFixture(makeEnv);
    registryContract(fixture);
    rpcContract(fixture);
    signingContract(fixture);
    seatsContract(fixture);
  });
}

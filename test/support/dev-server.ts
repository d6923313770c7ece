/**
 * The tests' dev server is the shipped one (testing/dev-server.ts, which the bench and agent authors
 * use too): this name keeps the tests' imports where they were.
 */
export * from '../../testing/dev-server';

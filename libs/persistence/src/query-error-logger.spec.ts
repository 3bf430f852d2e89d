import { DataSource } from 'typeorm';
import { TestEnvironment, describeWithInfrastructure } from '@odb/testing';
import { dataSourceOptions } from './data-source';

describeWithInfrastructure('failed queries in the logs', () => {
  let env: TestEnvironment;
  let dataSource: DataSource;

  beforeAll(async () => {
    env = await TestEnvironment.create();
    dataSource = new DataSource(dataSourceOptions({ url: env.databaseUrl, poolSize: 1 }));
    await dataSource.initialize();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await env?.dispose();
  });

  it('are reported with their SQL and error code, never with their parameters', async () => {
    const written: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      jest.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        written.push(String(chunk));
        return true;
      }),
    );
    try {
      const secret = 'odb1.key-hash-that-must-not-be-logged';
      await expect(dataSource.query(`SELECT length($1::text) / 0 AS never`, [secret])).rejects.toMatchObject({ code: '22012' });
    } finally {
      spies.forEach((spy) => spy.mockRestore());
    }
    const output = written.join('');
    expect(output).toContain('query failed');
    expect(output).toContain('SELECT length($1::text) / 0 AS never');
    expect(output).toContain('22012');
    expect(output).not.toContain('key-hash-that-must-not-be-logged');
  });
});

export * from './fake-http-server';
export * from './fake-ckan';
export * from './fake-udata';
export * from './fake-dcat';
export * from './start-fake-catalogs';

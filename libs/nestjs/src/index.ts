export * from './cairn.module';
export * from './cairn.service';
export * from './decorators';
export * from './tokens';

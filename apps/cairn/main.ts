import 'reflect-metadata';
import { setFlagsFromString } from 'node:v8';
import { runDaemon } from './src/daemon';

// Request handling allocates many short-lived objects: a larger young generation makes
// scavenges rarer and cheaper (measured with apps/bench: fewer GC pauses, less CPU per request).
setFlagsFromString('--max-semi-space-size=64');

void runDaemon(process.argv.slice(2));

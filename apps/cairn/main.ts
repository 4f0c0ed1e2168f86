import 'reflect-metadata';
import { runDaemon } from './src/daemon';

void runDaemon(process.argv.slice(2));

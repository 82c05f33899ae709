/** Every command, in the order `tsbuild --help` lists them. */
import type { Command } from '../command.js';
import { buildCommand } from './build.js';
import { run } from './run.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { login } from './login.js';
import { logout } from './logout.js';
import { images } from './images.js';
import { load } from './load.js';
import { save } from './save.js';
import { tag } from './tag.js';
import { rmi } from './rmi.js';
import { inspect } from './inspect.js';
import { prune } from './prune.js';
import { store } from './store.js';
import { history } from './history.js';
import { info } from './info.js';

export const COMMANDS: readonly Command[] = [buildCommand, run, pull, push, login, logout, images, load, save, tag, rmi, inspect, prune, store, history, info];

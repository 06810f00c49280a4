// The emulator's own persistent counters: the loopback octet of this state dir and the next free
// host number of each IP pool (released IPs are never handed out again).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from './store.ts';

export interface EmulatorMeta {
  /** Second octet B: internal IPs 127.B.1.N, ephemeral external 127.B.2.N, static 127.B.3.N. */
  octet: number;
  next: { internal: number; ephemeral: number; static: number };
  /** Next host number per region subnet (VPC addressing: VMs in network namespaces). */
  nextInRegion?: Record<string, number>;
  /** Zones taken down by a fault (status DOWN); they stay down across restarts. */
  downZones: string[];
}

export class MetaStore {
  readonly value: EmulatorMeta;
  private readonly file: string | undefined;

  constructor(stateDir?: string) {
    this.file = stateDir ? join(stateDir, 'emulator.json') : undefined;
    if (this.file && existsSync(this.file)) {
      this.value = JSON.parse(readFileSync(this.file, 'utf8')) as EmulatorMeta;
      this.value.downZones ??= [];
    } else {
      this.value = { octet: 16 + Math.floor(Math.random() * 235), next: { internal: 1, ephemeral: 1, static: 1 }, downZones: [] };
      this.save();
    }
  }

  save(): void {
    if (this.file) writeJsonAtomic(this.file, this.value);
  }
}

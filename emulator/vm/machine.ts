// One emulated VM as a real Debian 12 machine: an overlay of the cached image (its upper layer is
// the boot disk, kept until the disk is deleted), booted with systemd as PID 1 by systemd-nspawn in
// its own network namespace, wired into its VPC by a veth with its internal IP, its data disk a
// loop device at /dev/disk/by-id/google-<device name>, its console appended to a serial log.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { dirname, join } from 'node:path';
import type { VmImage } from './image.ts';
import { addNamespace, addVethPair, deleteNamespace, nsPath } from './netns.ts';
import { attachDisk, detachDisk } from './data-disk.ts';
import { run, runTolerant } from './sh.ts';
import { writeHostsEntries } from './guest-files.ts';
import { childInOwnPidNamespace } from './guest-init.ts';

export interface MachineSpec {
  key: string;
  name: string;
  internalIp: string;
  prefixLength: number;
  gateway: string;
  vpcNamespace: string;
  vmNamespace: string;
  vmLink: string;
  /** Directory of the boot disk: the overlay's upper and work dirs live there. */
  bootDiskDir: string;
  dataDisk?: { deviceName: string; dir: string; sizeGb: number };
  /** Where the merged root is mounted while the VM runs. */
  mountDir: string;
  serialLog: string;
  /** Binds from the host into the VM (the stand-ins' Node and code, the CA bundle): read-only unless `writable`. */
  binds: Array<{ host: string; guest: string; writable?: boolean }>;
  /** Host names the VM resolves through /etc/hosts (Google's APIs at the in-VPC API address). */
  hostsEntry: { ip: string; names: string[] };
}

/** How long a clean shutdown may take before the power is cut. */
const SHUTDOWN_GRACE_MS = 8000;

export class Machine {
  readonly spec: MachineSpec;
  private readonly image: VmImage;
  private readonly log: (line: string) => void;
  private nspawn: ChildProcess | undefined;
  private serial: WriteStream | undefined;
  private loop: string | undefined;
  private mounted = false;
  private exited: Promise<void> | undefined;
  private guestInit: number | undefined;

  constructor(spec: MachineSpec, image: VmImage, log: (line: string) => void) {
    this.spec = spec;
    this.image = image;
    this.log = log;
  }

  get nspawnPid(): number | undefined {
    return this.nspawn?.pid;
  }

  /** PID of the VM's systemd (PID 1 inside), once nspawn has started it. */
  initPid(): number | undefined {
    this.guestInit ??= this.findInit();
    return this.guestInit;
  }

  private findInit(): number | undefined {
    const pid = this.nspawn?.pid;
    return pid === undefined ? undefined : childInOwnPidNamespace(pid);
  }

  async powerOn(): Promise<void> {
    const s = this.spec;
    await addNamespace(s.vmNamespace);
    await addVethPair(
      { ns: s.vpcNamespace, name: s.vmLink },
      { ns: s.vmNamespace, name: 'eth0' },
      {
        inA: [['link', 'set', s.vmLink, 'master', 'br0', 'up']],
        inB: [
          ['addr', 'add', `${s.internalIp}/${s.prefixLength}`, 'dev', 'eth0'],
          ['link', 'set', 'eth0', 'up'],
          ['route', 'add', 'default', 'via', s.gateway],
        ],
      },
    );

    if (s.dataDisk) this.loop = await attachDisk(s.dataDisk.dir, s.dataDisk.sizeGb);

    const upper = join(s.bootDiskDir, 'overlay/upper');
    const work = join(s.bootDiskDir, 'overlay/work');
    for (const d of [upper, work, s.mountDir, join(upper, 'etc')]) mkdirSync(d, { recursive: true });
    // GCE's guest environment names the machine after the instance; the image's name is generic.
    writeFileSync(join(upper, 'etc/hostname'), `${s.name}\n`);
    writeHostsEntries(this.image.rootfs, upper, s.hostsEntry.ip, s.hostsEntry.names);
    await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${this.image.rootfs},upperdir=${upper},workdir=${work}`, s.mountDir]);
    this.mounted = true;
    // nspawn makes a missing bind target (file or directory) itself, but not its parents.
    for (const b of s.binds) mkdirSync(dirname(join(s.mountDir, b.guest)), { recursive: true });

    this.serial = createWriteStream(s.serialLog, { flags: 'a' });
    const args = [
      '--boot',
      '--directory',
      s.mountDir,
      '--register=no',
      '--keep-unit',
      '--console=read-only',
      `--network-namespace-path=${nsPath(s.vmNamespace)}`,
      `--hostname=${s.name}`,
      `--machine=${s.vmNamespace}`,
      ...(this.loop && s.dataDisk ? [`--bind=${this.loop}:/dev/disk/by-id/google-${s.dataDisk.deviceName}`] : []),
      ...s.binds.map((b) => `--bind${b.writable ? '' : '-ro'}=${b.host}:${b.guest}`),
    ];
    const child = spawn(this.image.nspawn, args, {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', LD_LIBRARY_PATH: this.image.nspawnLibDir, SYSTEMD_COLORS: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.nspawn = child;
    this.guestInit = undefined;
    child.stdout?.pipe(this.serial, { end: false });
    child.stderr?.pipe(this.serial, { end: false });
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.log(`${s.key}: machine stopped (nspawn ${signal ?? `exit ${code}`})`);
        resolve();
      });
      child.once('error', (e) => {
        this.log(`${s.key}: cannot start systemd-nspawn: ${e.message}`);
        resolve();
      });
    });
    // Known early, so that a crash of the emulator can still end the guest (see kill()).
    for (let i = 0; i < 40 && this.initPid() === undefined && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 50));
  }

  /**
   * Shuts the VM down. `graceful`: ACPI-style shutdown (systemd stops its units), cut after a
   * grace period; otherwise the power is cut at once (a zone outage, a reset).
   */
  async powerOff(graceful: boolean): Promise<void> {
    const child = this.nspawn;
    if (child && child.exitCode === null && child.signalCode === null) {
      // nspawn halts the guest on the first SIGTERM and terminates it at once on the second.
      child.kill('SIGTERM');
      if (!graceful) setTimeout(() => child.kill('SIGTERM'), 50).unref();
      const cut = setTimeout(() => this.kill(), graceful ? SHUTDOWN_GRACE_MS : 3000);
      await this.exited;
      clearTimeout(cut);
    }
    this.nspawn = undefined;
    this.guestInit = undefined;
    await this.release();
  }

  /**
   * Synchronous last resort: SIGKILL to the guest's PID 1 (which ends its whole PID namespace) and
   * to nspawn. Killing only nspawn would leave the guest running, adopted by the host's init.
   */
  kill(): void {
    for (const pid of [this.initPid(), this.nspawn?.pid]) {
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  private async release(): Promise<void> {
    const s = this.spec;
    if (this.mounted) {
      await runTolerant(['umount', '--recursive', s.mountDir], /not mounted|no mount point/i);
      this.mounted = false;
    }
    if (this.loop) {
      await detachDisk(this.loop);
      this.loop = undefined;
    }
    // Deleting the namespace deletes eth0, and with it its VPC-side peer.
    await deleteNamespace(s.vmNamespace);
    await new Promise<void>((resolve) => (this.serial ? this.serial.end(resolve) : resolve()));
    this.serial = undefined;
  }
}

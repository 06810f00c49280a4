// kube-scheduler stand-in entry point: `kube-scheduler [flags]` with the v1.34 flag set; leader
// election on kube-system/kube-scheduler (see control-plane.ts). It schedules nothing.
import { restartWithoutTypeStripper } from './node-cache.ts';
import { runControlPlaneComponent } from './control-plane.ts';

restartWithoutTypeStripper();
await runControlPlaneComponent('kube-scheduler', process.argv.slice(2));

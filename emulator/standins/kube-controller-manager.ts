// kube-controller-manager stand-in entry point: `kube-controller-manager [flags]` with the v1.34
// flag set; leader election on kube-system/kube-controller-manager (see control-plane.ts). It runs
// no controllers.
import { restartWithoutTypeStripper } from './node-cache.ts';
import { runControlPlaneComponent } from './control-plane.ts';

restartWithoutTypeStripper();
await runControlPlaneComponent('kube-controller-manager', process.argv.slice(2));

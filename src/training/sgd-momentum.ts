/**
 * PyTorch's SGD with momentum and coupled weight decay, keyed by variable name. tfjs's
 * optimizers key their state by gradient position, which breaks single-path training (each
 * step differentiates a different subset of the variables); here a variable's momentum buffer
 * is its own, created on its first update, and a variable off the path gets neither gradient,
 * momentum nor decay.
 */
import { tf, type Tensor } from './tf.js';

export class SgdMomentum {
  private readonly velocity = new Map<string, Tensor>();

  constructor(
    private readonly momentum: number,
    private readonly weightDecay: number,
  ) {}

  /**
   * The new value of `name` (kept): d = g + wd * w (when `decays`); v = momentum * v + d
   * (v = d on first use); w - lr * v. The caller replaces and frees the old value.
   */
  step(name: string, w: Tensor, gradient: Tensor, lr: number, decays: boolean): Tensor {
    const d = this.weightDecay > 0 && decays ? tf.add(gradient, tf.mul(w, this.weightDecay)) : gradient;
    const previous = this.velocity.get(name);
    const v = tf.keep(previous === undefined ? tf.clone(d) : tf.add(tf.mul(previous, this.momentum), d));
    this.velocity.set(name, v);
    const updated = tf.keep(tf.sub(w, tf.mul(v, lr)));
    previous?.dispose();
    return updated;
  }

  /** The momentum buffer of `name`, or undefined before its first update. */
  buffer(name: string): Tensor | undefined {
    return this.velocity.get(name);
  }

  /** Replaces every buffer (shapes already checked). */
  load(buffers: ReadonlyMap<string, Tensor>): void {
    this.dispose();
    for (const [name, t] of buffers) this.velocity.set(name, t);
  }

  dispose(): void {
    tf.dispose([...this.velocity.values()]);
    this.velocity.clear();
  }
}

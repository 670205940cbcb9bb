package train

import "math"

// adamw is AdamW (Loshchilov & Hutter 2019, "Decoupled Weight Decay
// Regularization"; as torch.optim.AdamW): the weight decay shrinks the
// parameter directly, p ← p − lr·(m̂/(√v̂+ε) + λ·p), instead of being added to
// the gradient. It applies to tensors whose tensorInfo.Decay is set: the
// matrices and the embeddings (as nanoGPT), not biases or LayerNorm gains.
type adamw struct {
	beta1, beta2, eps, weightDecay float64
	m, v                           []float32 // first and second moments, flat like the parameters
	t                              int       // number of updates made
}

func newAdamW(n int, beta1, beta2, eps, wd float64) *adamw {
	return &adamw{beta1: beta1, beta2: beta2, eps: eps, weightDecay: wd, m: make([]float32, n), v: make([]float32, n)}
}

// update applies one AdamW step with learning rate lr to params given grad.
func (o *adamw) update(params, grad []float32, ts []tensorInfo, lr float64) {
	o.t++
	b1, b2 := float32(o.beta1), float32(o.beta2)
	c1 := float32(1 / (1 - math.Pow(o.beta1, float64(o.t))))
	c2 := float32(1 / (1 - math.Pow(o.beta2, float64(o.t))))
	eps, lr32 := float32(o.eps), float32(lr)
	for _, t := range ts {
		p, g := params[t.Off:t.Off+t.Size], grad[t.Off:t.Off+t.Size]
		m, v := o.m[t.Off:t.Off+t.Size], o.v[t.Off:t.Off+t.Size]
		decay := float32(0)
		if t.Decay {
			decay = float32(o.weightDecay)
		}
		c := [9]float32{b1, 1 - b1, b2, 1 - b2, c1, c2, eps, lr32, decay}
		adamwRow(p, g, m, v, &c)
	}
}

// learningRate is the schedule: linear warm-up from lr/warmup to lr over
// the first warmup steps, then cosine decay to minFrac·lr at step total
// (as in nanoGPT's get_lr). step counts from 0.
func learningRate(step, warmup, total int, lr, minFrac float64) float64 {
	if step < warmup {
		return lr * float64(step+1) / float64(warmup)
	}
	if step >= total {
		return lr * minFrac
	}
	ratio := float64(step-warmup) / float64(max(total-warmup, 1))
	coeff := 0.5 * (1 + math.Cos(math.Pi*ratio))
	return lr * (minFrac + coeff*(1-minFrac))
}

// clipGradNorm scales grad so that its global L2 norm is at most maxNorm
// (Pascanu et al. 2013; torch.nn.utils.clip_grad_norm_) and returns the norm
// before clipping. maxNorm ≤ 0 disables clipping.
func clipGradNorm(grad []float32, maxNorm float64) float64 {
	var s float64
	for _, g := range grad {
		s += float64(g) * float64(g)
	}
	norm := math.Sqrt(s)
	if maxNorm > 0 && norm > maxNorm {
		f := float32(maxNorm / (norm + 1e-6))
		for i := range grad {
			grad[i] *= f
		}
	}
	return norm
}

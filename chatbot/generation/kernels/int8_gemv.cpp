// int8 weight-only matrix-vector products for the decode steps of the int8-lean back end (fp32 activations).
//
// Why hand-written: on AVX2 CPUs without AVX512 (this project's AMD EPYC Zen 1 machines) every maintained kernel
// is slow for one activation row, the shape of a decode step: python benchmarks/decode_kernels.py (2026-12-01)
// put the products of one SmolLM2 decode step at 28 ms with PyTorch's int4 or int8 kernels or fbgemm's dynamic
// int8 (~0.1 ms a call whatever the size), 51 ms in fp32 BLAS, and 14 ms with this file. Each weight byte is read
// once, converted to float and multiplied with up to four activation rows; ATen's thread pool splits the output
// rows. decode_step runs a whole Llama decode step in one call: as ~600 PyTorch calls from Python it took 43 ms.
// Built with -march=native (cpu_kernels.py); without AVX2 + FMA the portable loops below are compiled instead.
#include <torch/extension.h>
#include <ATen/Parallel.h>

#include <cmath>
#include <algorithm>
#include <cstring>
#include <limits>
#include <vector>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

namespace {

#if defined(__AVX2__) && defined(__FMA__)
// AVX2: 8 weights at a time, int8 -> int32 -> float, multiplied into a per-group vector sum that is scaled once per
// group (no horizontal sum inside the row: that made a first version with per-group reductions 2x slower).
inline __m256 load8(const int8_t* w) {
  return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(w))));
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

// exp of 8 floats (Cephes' expf polynomial: relative error ~2e-7; below -87.3 it returns 0, so -inf masks work).
// Why: std::exp one number at a time was most of a batched decode step's attention softmax and SiLU (8 chats at a
// 430-token cache: ~1 M exps a step).
inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(x, _mm256_set1_ps(88.3762626647949f));
  x = _mm256_max_ps(x, _mm256_set1_ps(-88.3762626647949f));
  __m256 fx = _mm256_floor_ps(_mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f)));
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  const __m256 z = _mm256_mul_ps(x, x);
  __m256 y = _mm256_set1_ps(1.9875691500E-4f);
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073E-3f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894E-2f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459E-1f));
  y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201E-1f));
  y = _mm256_add_ps(_mm256_fmadd_ps(y, z, x), _mm256_set1_ps(1.0f));
  const __m256i n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvttps_epi32(fx), _mm256_set1_epi32(0x7f)), 23);
  return _mm256_mul_ps(y, _mm256_castsi256_ps(n));
}
#endif

// One weight row against one activation row: int8 groups of `group` inputs, each with its own fp32 scale.
inline float dot1(const float* x, const int8_t* w, const float* scales, int64_t in, int64_t group) {
#if defined(__AVX2__) && defined(__FMA__)
  if (group % 16 == 0) {
    __m256 acc = _mm256_setzero_ps();
    for (int64_t g0 = 0, k = 0; g0 < in; g0 += group, ++k) {
      __m256 a = _mm256_setzero_ps(), b = _mm256_setzero_ps();  // two chains: FMA latency
      for (int64_t i = g0; i < g0 + group; i += 16) {
        a = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), load8(w + i), a);
        b = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), load8(w + i + 8), b);
      }
      acc = _mm256_fmadd_ps(_mm256_add_ps(a, b), _mm256_set1_ps(scales[k]), acc);
    }
    return hsum(acc);
  }
#endif
  float total = 0.f;
  for (int64_t g0 = 0, k = 0; g0 < in; g0 += group, ++k) {
    float a = 0.f;
#pragma omp simd reduction(+ : a)
    for (int64_t i = g0; i < g0 + group; ++i) a += x[i] * static_cast<float>(w[i]);
    total += a * scales[k];
  }
  return total;
}

// The same weight row against four activation rows: each weight byte is converted once for all four.
inline void dot4(const float* x, int64_t in, const int8_t* w, const float* scales, int64_t group, float* y,
                 int64_t y_stride) {
  const float *x0 = x, *x1 = x + in, *x2 = x + 2 * in, *x3 = x + 3 * in;
#if defined(__AVX2__) && defined(__FMA__)
  if (group % 8 == 0) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    for (int64_t g0 = 0, k = 0; g0 < in; g0 += group, ++k) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t i = g0; i < g0 + group; i += 8) {
        const __m256 wv = load8(w + i);
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x0 + i), wv, a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x1 + i), wv, a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x2 + i), wv, a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x3 + i), wv, a3);
      }
      const __m256 sv = _mm256_set1_ps(scales[k]);
      c0 = _mm256_fmadd_ps(a0, sv, c0);
      c1 = _mm256_fmadd_ps(a1, sv, c1);
      c2 = _mm256_fmadd_ps(a2, sv, c2);
      c3 = _mm256_fmadd_ps(a3, sv, c3);
    }
    y[0] = hsum(c0);
    y[y_stride] = hsum(c1);
    y[2 * y_stride] = hsum(c2);
    y[3 * y_stride] = hsum(c3);
    return;
  }
#endif
  float t0 = 0.f, t1 = 0.f, t2 = 0.f, t3 = 0.f;
  for (int64_t g0 = 0, k = 0; g0 < in; g0 += group, ++k) {
    float a0 = 0.f, a1 = 0.f, a2 = 0.f, a3 = 0.f;
#pragma omp simd reduction(+ : a0, a1, a2, a3)
    for (int64_t i = g0; i < g0 + group; ++i) {
      const float wv = static_cast<float>(w[i]);
      a0 += x0[i] * wv;
      a1 += x1[i] * wv;
      a2 += x2[i] * wv;
      a3 += x3[i] * wv;
    }
    const float s = scales[k];
    t0 += a0 * s;
    t1 += a1 * s;
    t2 += a2 * s;
    t3 += a3 * s;
  }
  y[0] = t0;
  y[y_stride] = t1;
  y[2 * y_stride] = t2;
  y[3 * y_stride] = t3;
}

// The same weight row against eight activation rows (a batch of chats). Each group's 8-weight vectors are
// converted and multiplied by the group's scale once for all eight rows, so every row accumulates straight into
// one register across the whole weight row: 8 accumulators, the scaled weights and one activation load fit in
// AVX2's 16 registers (dot4's per-group sums would need 16 for eight rows).
inline void dot8(const float* x, int64_t in, const int8_t* w, const float* scales, int64_t group, float* y,
                 int64_t y_stride) {
#if defined(__AVX2__) && defined(__FMA__)
  if (group % 8 == 0) {
    __m256 a[8];
    for (int r = 0; r < 8; ++r) a[r] = _mm256_setzero_ps();
    for (int64_t g0 = 0, k = 0; g0 < in; g0 += group, ++k) {
      const __m256 sv = _mm256_set1_ps(scales[k]);
      for (int64_t i = g0; i < g0 + group; i += 8) {
        const __m256 wv = _mm256_mul_ps(load8(w + i), sv);
        for (int r = 0; r < 8; ++r) a[r] = _mm256_fmadd_ps(_mm256_loadu_ps(x + r * in + i), wv, a[r]);
      }
    }
    for (int r = 0; r < 8; ++r) y[r * y_stride] = hsum(a[r]);
    return;
  }
#endif
  dot4(x, in, w, scales, group, y, y_stride);
  dot4(x + 4 * in, in, w, scales, group, y + 4 * y_stride, y_stride);
}

}  // namespace

// scales: (out, in / group) fp32
static void gemv(const float* xp, int64_t rows, int64_t in, const int8_t* wp, const float* sp, int64_t groups,
                 int64_t out, float* yp) {
  const int64_t group = in / groups;
  // grain: at least 16 output rows a task, so a 192-row projection is not split into slivers
  at::parallel_for(0, out, 16, [&](int64_t begin, int64_t end) {
    for (int64_t o = begin; o < end; ++o) {
      const int8_t* wr = wp + o * in;
      const float* sr = sp + o * groups;
      int64_t r = 0;
      for (; r + 8 <= rows; r += 8) dot8(xp + r * in, in, wr, sr, group, yp + r * out + o, out);
      for (; r + 4 <= rows; r += 4) dot4(xp + r * in, in, wr, sr, group, yp + r * out + o, out);
      for (; r < rows; ++r) yp[r * out + o] = dot1(xp + r * in, wr, sr, in, group);
    }
  });
}

static void check_int8(const torch::Tensor& w, const torch::Tensor& scale, int64_t in) {
  TORCH_CHECK(w.dim() == 2 && w.scalar_type() == at::kChar && w.is_contiguous() && w.size(1) == in,
              "int8 weight (out, in) contiguous expected");
  TORCH_CHECK(scale.dim() == 2 && scale.scalar_type() == at::kFloat && scale.is_contiguous() &&
                  scale.size(0) == w.size(0) && scale.size(1) > 0 && in % scale.size(1) == 0,
              "fp32 scales (out, in / group) expected");
}

// y[r, o] = sum_g scale[o, g] * sum_{i in group g} x[r, i] * w[o, i]
// (x: rows x in fp32, w: out x in int8, scale: out x in/group fp32)
torch::Tensor int8_gemv(torch::Tensor x, torch::Tensor w, torch::Tensor scale) {
  TORCH_CHECK(x.dim() == 2 && x.scalar_type() == at::kFloat, "int8_gemv: x (rows, in) fp32");
  auto xc = x.contiguous();
  check_int8(w, scale, xc.size(1));
  auto y = torch::empty({xc.size(0), w.size(0)}, xc.options());
  gemv(xc.data_ptr<float>(), xc.size(0), xc.size(1), w.data_ptr<int8_t>(), scale.data_ptr<float>(), scale.size(1),
       w.size(0), y.data_ptr<float>());
  return y;
}

namespace {

void rms_norm(const float* x, int64_t rows, int64_t n, const float* w, float eps, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * n;
    float ss = 0.f;
#pragma omp simd reduction(+ : ss)
    for (int64_t i = 0; i < n; ++i) ss += xr[i] * xr[i];
    const float inv = 1.f / std::sqrt(ss / static_cast<float>(n) + eps);
    for (int64_t i = 0; i < n; ++i) y[r * n + i] = w[i] * (xr[i] * inv);
  }
}

// One query head over `filled` cached keys/values (row-major, `dim` floats each): out = softmax(q.K * scale +
// mask) V. `s` is scratch for the scores.
void attend(const float* q, const float* kb, const float* vb, const float* mask, int64_t filled, int64_t dim,
            float scale, float* s, float* out) {
#if defined(__AVX2__) && defined(__FMA__)
  if (dim % 8 == 0 && dim <= 128) {
    const int64_t nv = dim / 8;
    __m256 qv[16];
    for (int64_t j = 0; j < nv; ++j) qv[j] = _mm256_loadu_ps(q + 8 * j);
    float best = -std::numeric_limits<float>::infinity();
    for (int64_t t = 0; t < filled; ++t) {
      const float* k = kb + t * dim;
      __m256 a = _mm256_mul_ps(qv[0], _mm256_loadu_ps(k));
      for (int64_t j = 1; j < nv; ++j) a = _mm256_fmadd_ps(qv[j], _mm256_loadu_ps(k + 8 * j), a);
      s[t] = hsum(a) * scale + (mask ? mask[t] : 0.f);
      best = std::max(best, s[t]);
    }
    const __m256 bv = _mm256_set1_ps(best);
    __m256 tv = _mm256_setzero_ps();
    int64_t t = 0;
    for (; t + 8 <= filled; t += 8) {
      const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(s + t), bv));
      _mm256_storeu_ps(s + t, e);
      tv = _mm256_add_ps(tv, e);
    }
    float total = hsum(tv);
    for (; t < filled; ++t) {
      s[t] = std::exp(s[t] - best);
      total += s[t];
    }
    const float inv = 1.f / total;
    __m256 ov[16];
    for (int64_t j = 0; j < nv; ++j) ov[j] = _mm256_setzero_ps();
    for (t = 0; t < filled; ++t) {
      const __m256 p = _mm256_set1_ps(s[t] * inv);
      const float* v = vb + t * dim;
      for (int64_t j = 0; j < nv; ++j) ov[j] = _mm256_fmadd_ps(p, _mm256_loadu_ps(v + 8 * j), ov[j]);
    }
    for (int64_t j = 0; j < nv; ++j) _mm256_storeu_ps(out + 8 * j, ov[j]);
    return;
  }
#endif
  float best = -std::numeric_limits<float>::infinity();
  for (int64_t t = 0; t < filled; ++t) {
    float d = 0.f;
#pragma omp simd reduction(+ : d)
    for (int64_t i = 0; i < dim; ++i) d += q[i] * kb[t * dim + i];
    s[t] = d * scale + (mask ? mask[t] : 0.f);
    best = std::max(best, s[t]);
  }
  float total = 0.f;
  for (int64_t t = 0; t < filled; ++t) {
    s[t] = std::exp(s[t] - best);
    total += s[t];
  }
  for (int64_t i = 0; i < dim; ++i) out[i] = 0.f;
  for (int64_t t = 0; t < filled; ++t) {
    const float p = s[t] / total;
    if (p == 0.f) continue;
#pragma omp simd
    for (int64_t i = 0; i < dim; ++i) out[i] += p * vb[t * dim + i];
  }
}

// out[i] = silu(gate[i]) * up[i]
void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  int64_t i = 0;
#if defined(__AVX2__) && defined(__FMA__)
  const __m256 one = _mm256_set1_ps(1.f);
  for (; i + 8 <= n; i += 8) {
    const __m256 g = _mm256_loadu_ps(gate + i);
    const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), g));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_div_ps(g, _mm256_add_ps(one, e)), _mm256_loadu_ps(up + i)));
  }
#endif
  for (; i < n; ++i) out[i] = gate[i] / (1.f + std::exp(-gate[i])) * up[i];
}

// transformers' apply_rotary_pos_emb on one head vector: v * cos + rotate_half(v) * sin
void rope(float* v, const float* cos, const float* sin, int64_t dim) {
  const int64_t half = dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float a = v[i], b = v[i + half];
    v[i] = a * cos[i] - b * sin[i];
    v[i + half] = b * cos[i + half] + a * sin[i + half];
  }
}

}  // namespace

// One decode step of a Llama-architecture model with int8 weights (see lean_decoder.py for the Python side).
// x: (B, hidden) embeddings of the new tokens; cos/sin: (B, dim) rotary rows of each row's position; slots: (B,)
// int64, the cache slot each row writes (it then attends over slots 0..slots[b]); key_mask: empty, or (B, >= max
// slot + 1) additive mask over cache slots (left-padded batches). keys/values[l * B + b]: row b's cache of layer l,
// (kv_heads, capacity, dim) — every row has its own cache, so rows of different lengths (continuous batching)
// share a step. Per layer: norms, int8 (weight, scale) pairs for qkv, o, gate_up, down. Returns the logits.
torch::Tensor decode_step(torch::Tensor x, torch::Tensor cos, torch::Tensor sin, torch::Tensor key_mask,
                          torch::Tensor slots, std::vector<torch::Tensor> input_norm, std::vector<torch::Tensor> qkv_w,
                          std::vector<torch::Tensor> qkv_s, std::vector<torch::Tensor> o_w,
                          std::vector<torch::Tensor> o_s, std::vector<torch::Tensor> post_norm,
                          std::vector<torch::Tensor> gu_w, std::vector<torch::Tensor> gu_s,
                          std::vector<torch::Tensor> down_w, std::vector<torch::Tensor> down_s,
                          std::vector<torch::Tensor> keys, std::vector<torch::Tensor> values, torch::Tensor final_norm,
                          torch::Tensor head_w, torch::Tensor head_s, int64_t heads, int64_t kv_heads, double eps,
                          double scaling) {
  const int64_t batch = x.size(0), hidden = x.size(1), dim = cos.size(1), layers = qkv_w.size();
  const int64_t q_size = heads * dim, kv_size = kv_heads * dim, qkv_out = q_size + 2 * kv_size;
  const int64_t group = heads / kv_heads;
  TORCH_CHECK(x.scalar_type() == at::kFloat && x.is_contiguous(), "decode_step: x (batch, hidden) fp32");
  TORCH_CHECK(cos.is_contiguous() && sin.is_contiguous() && cos.size(0) == batch, "decode_step: cos/sin (batch, dim)");
  TORCH_CHECK(slots.dim() == 1 && slots.size(0) == batch && slots.scalar_type() == at::kLong && slots.is_contiguous(),
              "decode_step: slots (batch,) int64");
  const int64_t* slot_of = slots.data_ptr<int64_t>();
  int64_t max_filled = 0;
  for (int64_t b = 0; b < batch; ++b) {
    TORCH_CHECK(slot_of[b] >= 0, "decode_step: negative slot");
    max_filled = std::max(max_filled, slot_of[b] + 1);
  }
  const bool masked = key_mask.numel() > 0;
  TORCH_CHECK(!masked || (key_mask.is_contiguous() && key_mask.size(0) == batch && key_mask.size(1) >= max_filled),
              "decode_step: key_mask (batch, slots)");
  const int64_t mask_stride = masked ? key_mask.size(1) : 0;
  TORCH_CHECK(static_cast<int64_t>(keys.size()) == layers * batch && static_cast<int64_t>(values.size()) == layers * batch,
              "decode_step: one key and one value cache per layer and row");
  for (int64_t l = 0; l < layers; ++l) {
    check_int8(qkv_w[l], qkv_s[l], hidden);
    check_int8(o_w[l], o_s[l], q_size);
    check_int8(gu_w[l], gu_s[l], hidden);
    check_int8(down_w[l], down_s[l], gu_w[l].size(0) / 2);
    TORCH_CHECK(qkv_w[l].size(0) == qkv_out && o_w[l].size(0) == hidden && down_w[l].size(0) == hidden,
                "decode_step: projection shapes do not match the model");
    for (int64_t b = 0; b < batch; ++b) {
      const auto& k = keys[l * batch + b];
      const auto& v = values[l * batch + b];
      TORCH_CHECK(k.is_contiguous() && v.is_contiguous() && k.dim() == 3 && k.sizes() == v.sizes() &&
                      k.size(0) == kv_heads && k.size(2) == dim && k.size(1) > slot_of[b] &&
                      k.scalar_type() == at::kFloat && v.scalar_type() == at::kFloat,
                  "decode_step: cache (kv_heads, capacity, dim) fp32 with room for the row's slot");
    }
  }
  check_int8(head_w, head_s, hidden);
  const int64_t inter = gu_w[0].size(0) / 2;
  auto opts = x.options();
  auto state = x.clone();
  auto h = torch::empty({batch, hidden}, opts);
  auto qkv = torch::empty({batch, qkv_out}, opts);
  auto attn = torch::empty({batch, q_size}, opts);
  auto tmp = torch::empty({batch, hidden}, opts);
  auto gu = torch::empty({batch, 2 * inter}, opts);
  auto act = torch::empty({batch, inter}, opts);
  auto scores = torch::empty({batch * heads, max_filled}, opts);
  float *xs = state.data_ptr<float>(), *hp = h.data_ptr<float>(), *qp = qkv.data_ptr<float>();
  float *ap = attn.data_ptr<float>(), *tp = tmp.data_ptr<float>(), *gp = gu.data_ptr<float>();
  float *actp = act.data_ptr<float>(), *sc = scores.data_ptr<float>();
  const float *cp = cos.data_ptr<float>(), *snp = sin.data_ptr<float>();
  const float* mp = masked ? key_mask.data_ptr<float>() : nullptr;
  const float fscale = static_cast<float>(scaling), feps = static_cast<float>(eps);
  std::vector<float*> kc(batch), vc(batch);
  std::vector<int64_t> capacity(batch);
  for (int64_t l = 0; l < layers; ++l) {
    for (int64_t b = 0; b < batch; ++b) {
      kc[b] = keys[l * batch + b].data_ptr<float>();
      vc[b] = values[l * batch + b].data_ptr<float>();
      capacity[b] = keys[l * batch + b].size(1);
    }
    rms_norm(xs, batch, hidden, input_norm[l].data_ptr<float>(), feps, hp);
    gemv(hp, batch, hidden, qkv_w[l].data_ptr<int8_t>(), qkv_s[l].data_ptr<float>(), qkv_s[l].size(1), qkv_out, qp);
    for (int64_t b = 0; b < batch; ++b) {
      float* row = qp + b * qkv_out;
      for (int64_t head = 0; head < heads + kv_heads; ++head) rope(row + head * dim, cp + b * dim, snp + b * dim, dim);
      for (int64_t g = 0; g < kv_heads; ++g) {
        const int64_t at = (g * capacity[b] + slot_of[b]) * dim;
        std::memcpy(kc[b] + at, row + q_size + g * dim, dim * sizeof(float));
        std::memcpy(vc[b] + at, row + q_size + kv_size + g * dim, dim * sizeof(float));
      }
    }
    // attention of each query head over the filled cache slots of its kv head
    at::parallel_for(0, batch * heads, 1, [&](int64_t begin, int64_t end) {
      for (int64_t bh = begin; bh < end; ++bh) {
        const int64_t b = bh / heads, head = bh % heads, g = head / group, filled = slot_of[b] + 1;
        const float* q = qp + b * qkv_out + head * dim;
        const float* kb = kc[b] + g * capacity[b] * dim;
        const float* vb = vc[b] + g * capacity[b] * dim;
        const float* mask = masked ? mp + b * mask_stride : nullptr;
        attend(q, kb, vb, mask, filled, dim, fscale, sc + bh * max_filled, ap + b * q_size + head * dim);
      }
    });
    gemv(ap, batch, q_size, o_w[l].data_ptr<int8_t>(), o_s[l].data_ptr<float>(), o_s[l].size(1), hidden, tp);
    for (int64_t i = 0; i < batch * hidden; ++i) xs[i] += tp[i];
    rms_norm(xs, batch, hidden, post_norm[l].data_ptr<float>(), feps, hp);
    gemv(hp, batch, hidden, gu_w[l].data_ptr<int8_t>(), gu_s[l].data_ptr<float>(), gu_s[l].size(1), 2 * inter, gp);
    for (int64_t b = 0; b < batch; ++b) silu_mul(gp + b * 2 * inter, gp + b * 2 * inter + inter, inter, actp + b * inter);
    gemv(actp, batch, inter, down_w[l].data_ptr<int8_t>(), down_s[l].data_ptr<float>(), down_s[l].size(1), hidden, tp);
    for (int64_t i = 0; i < batch * hidden; ++i) xs[i] += tp[i];
  }
  rms_norm(xs, batch, hidden, final_norm.data_ptr<float>(), feps, hp);
  auto logits = torch::empty({batch, head_w.size(0)}, opts);
  gemv(hp, batch, hidden, head_w.data_ptr<int8_t>(), head_s.data_ptr<float>(), head_s.size(1), head_w.size(0), logits.data_ptr<float>());
  return logits;
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("int8_gemv", &int8_gemv, "int8 weight-only x @ w.T with a scale per group of inputs");
  m.def("decode_step", &decode_step, "one decode step of a Llama-architecture model with int8 weights");
}

/* Helium (MVE) variants of the FC kernels for Armv8.1-M cores such as the Cortex-M55.
 *
 * Bit-exact with the scalar kernels (kernels.c), by construction and by test (firmware/bench/selftest.c
 * compares both on random and extreme cases under QEMU):
 *  - dot products: int32 sums of int8 products, in another order, starting from the bias; int32
 *    addition is exact modulo 2^32, so neither the order nor adding the bias first matters (VMLADAVA
 *    accumulates modulo 2^32, and acc = wrap32(bias + dot) is what the scalar kernel computes);
 *  - requantisation, four outputs at a time: VQRDMULH equals srdhm exactly (both are
 *    floor((a*b + 2^30) / 2^31) with the same single saturating case), and rdbpot's ties-away-from-zero
 *    is VRSHL's ties-up after subtracting 1 from negative values when e > 0 (saturating, which only
 *    matters for INT32_MIN, whose remainder is 0 anyway); the zero point is added with saturation, which
 *    clamps to the same int8 as the scalar int64 addition.
 *
 * Requantisation runs inside each kernel's row loop, on accumulators that started at the bias, so no
 * dot product goes through memory. A layer whose shifts are all negative (every exporter layer: M < 1
 * needs shift < 0) gets the short sequence (no left shift, unconditional fix-up); the per-channel shifts
 * are scanned once per call to know (16 per two instructions).
 *
 * Fast paths (assembly inner loops) for the block shapes the exporter and the compressor use:
 *  - 8x8: four blocks per iteration; their 8-byte slices of x come in two 64-bit gathers, and row r of
 *    two blocks is one 32-bit gather, so each VMLADAV sums 16 products of one output row; a pair and a
 *    single block finish the block row;
 *  - 4x4: four blocks per iteration; one 32-bit gather brings their four slices of x, one more row r of
 *    all four blocks;
 *  - 1x16: four blocks per iteration, transposed: gather j holds word j of each block's slice of x and
 *    of each block (the block row is one output row, so summing across blocks is what is wanted);
 *    leftover blocks one at a time with contiguous loads;
 *  - 16x1: one x value times a 16-row column per block, accumulated lane-wise (VMLA), four vectors of
 *    four rows.
 * Other block shapes with a width of 4, 8 or 16 use the general passes below; the remaining widths and
 * CSR (whose 8-bit column deltas form a serial prefix sum) use the scalar kernels. CSR4 prefix-sums its
 * 4-bit deltas 16 at a time with whole-vector shifts and gathers x and its values (hil_fc_csr4_mve). `npm run bench:kernels`
 * measures them all; its figures are emulated instruction counts, in which a gather counts once
 * although it takes several beats on silicon. */
#include "kernels.h"

#if HIL_KERNELS_MVE
#include <arm_mve.h>

#define INLINE static inline __attribute__((always_inline))

/* ---- requantisation ---- */

/* RQ_NEG: every shift < 0 (right shifts of 1..31 only). RQ_ANY: anything in [-31, 31]. */
enum { RQ_NEG = 0, RQ_ANY = 1 };

typedef struct {
  const int32_t *mult;
  const int8_t *shift;
  int8_t *y;
  int32_t zp;
  int32x4_t lo, hi;
  int32x4_t m, sh; /* per-tensor quantisation */
} rq_t;

/* The mode this layer can use: a scan of its shifts (VMAXV, 16 at a time). */
static int rq_init(rq_t *q, const hil_fc_args_t *a) {
  q->mult = a->mult;
  q->shift = a->shift;
  q->y = a->y;
  q->zp = a->out_zp;
  q->lo = vdupq_n_s32(a->act_min);
  q->hi = vdupq_n_s32(a->act_max);
  q->m = vdupq_n_s32(a->mult[0]);
  q->sh = vdupq_n_s32(a->shift[0]);
  int8_t mx = a->shift[0];
  if (a->per_channel) {
    const uint32_t out = a->out_features;
    uint32_t i = 0;
    for (; i + 16u <= out; i += 16u) mx = vmaxvq_s8(mx, vld1q_s8(a->shift + i));
    if (i < out) {
      const mve_pred16_t p = vctp8q(out - i);
      mx = vmaxvq_p_s8(mx, vldrbq_z_s8(a->shift + i, p), p);
    }
  }
  return mx < 0 ? RQ_NEG : RQ_ANY;
}

/* mbqm of four accumulators with multipliers m and shifts sh. */
INLINE int32x4_t rq_mbqm(int32x4_t acc, int32x4_t m, int32x4_t sh, const int mode) {
  if (mode == RQ_ANY) {
    const int32x4_t zero = vdupq_n_s32(0);
    acc = vqrdmulhq_s32(vshlq_s32(acc, vmaxq_s32(sh, zero)), m);
    sh = vminq_s32(sh, zero); /* -e: a right shift for VRSHL */
    /* rdbpot: -1 on negative values when e > 0 (then -e has its sign bit set), then round half up. */
    acc = vqaddq_s32(acc, vshrq_n_s32(vandq_s32(acc, sh), 31));
  } else {
    acc = vqrdmulhq_s32(acc, m);
    acc = vqaddq_s32(acc, vshrq_n_s32(acc, 31)); /* e > 0 in every lane */
  }
  return vrshlq_s32(acc, sh);
}

/* Every kernel collects the accumulators of up to BATCH outputs (started at the bias) in a buffer, then
 * requantises them in one vector loop: y[o0 .. o0+n). The context is copied into locals first: the
 * firmware is built with -fno-strict-aliasing, so otherwise every store to y makes GCC reload it. */
#define BATCH 128u

INLINE void requant_run(const rq_t *q, uint32_t o0, const int32_t *dot, uint32_t n, const int mode, const int pc) {
  const int32x4_t lo = q->lo, hi = q->hi;
  const int32_t zp = q->zp;
  int32x4_t m = q->m, sh = q->sh;
  const int32_t *mult = q->mult + (pc ? o0 : 0u);
  const int8_t *shift = q->shift + (pc ? o0 : 0u);
  int8_t *y = q->y + o0;
  for (uint32_t k = n >> 2; k; k--) {
    if (pc) {
      m = vld1q_s32(mult);
      mult += 4;
      sh = vldrbq_s32(shift);
      shift += 4;
    }
    const int32x4_t r = rq_mbqm(vld1q_s32(dot), m, sh, mode);
    dot += 4;
    vstrbq_s32(y, vminq_s32(vmaxq_s32(vqaddq_n_s32(r, zp), lo), hi));
    y += 4;
  }
  if (n & 3u) { /* the last one to three: nothing past y[o0 + n) or the arrays is touched */
    const mve_pred16_t p = vctp32q(n & 3u);
    if (pc) {
      m = vldrwq_z_s32(mult, p);
      sh = vldrbq_z_s32(shift, p);
    }
    const int32x4_t r = rq_mbqm(vldrwq_z_s32(dot, p), m, sh, mode);
    vstrbq_p_s32(y, vminq_s32(vmaxq_s32(vqaddq_n_s32(r, zp), lo), hi), p);
  }
}

/* One instantiation per (mode, per-channel) pair, so that each keeps its constants in registers. */
#define INSTANTIATE(NAME, IMPL, ARGS_DECL, ...)                                                        \
  static __attribute__((noinline)) void NAME##_neg_pc ARGS_DECL { IMPL(__VA_ARGS__, RQ_NEG, 1); }   \
  static __attribute__((noinline)) void NAME##_neg_pt ARGS_DECL { IMPL(__VA_ARGS__, RQ_NEG, 0); }   \
  static __attribute__((noinline)) void NAME##_any_pc ARGS_DECL { IMPL(__VA_ARGS__, RQ_ANY, 1); }   \
  static __attribute__((noinline)) void NAME##_any_pt ARGS_DECL { IMPL(__VA_ARGS__, RQ_ANY, 0); }
#define DISPATCH(NAME, mode, pc, ...)                                                                  \
  do {                                                                                                 \
    if (mode == RQ_NEG) {                                                                              \
      if (pc) NAME##_neg_pc(__VA_ARGS__); else NAME##_neg_pt(__VA_ARGS__);                             \
    } else {                                                                                           \
      if (pc) NAME##_any_pc(__VA_ARGS__); else NAME##_any_pt(__VA_ARGS__);                             \
    }                                                                                                  \
  } while (0)

INSTANTIATE(requant_batch, requant_run, (const rq_t *q, uint32_t o0, const int32_t *dot, uint32_t n), q, o0, dot, n)

/* ---- dense ---- */

/* `groups` groups of four rows from w: dot[r] = bias[r] + row r times x, each 16-byte load of x shared
 * by the four rows (a low-overhead loop); the last partial vector of the rows is loaded with a
 * predicate, so no byte past a row (or past the matrix) is read. Rows are contiguous, so row 3 ends where
 * the next group starts. Assembly, because GCC 12 spills the row pointers around the loop (about 35
 * instructions per group instead of 16); x and the end of the batch wait on the stack. */
static __attribute__((noinline)) void dense_rows4(const int8_t *w, const int8_t *x, uint32_t in,
                                                   const int32_t *bias, int32_t *dot, uint32_t groups) {
  if (!groups) return;
  uint32_t w0 = (uint32_t)(uintptr_t)w, xp = (uint32_t)(uintptr_t)x, w1 = (uint32_t)(uintptr_t)(dot + 4u * groups);
  uint32_t w2, w3;
  int32_t a0, a1, a2, a3;
  int8x16_t xv, v0, v1, v2, v3;
  __asm volatile(
      "sub sp, sp, #8\n\t"
      "strd %[w1], %[xp], [sp]\n"
      "0:\n\t"
      "ldrd %[a0], %[a1], [%[bias]], #8\n\t"
      "ldrd %[a2], %[a3], [%[bias]], #8\n\t"
      "add %[w1], %[w0], %[in]\n\t"
      "add %[w2], %[w1], %[in]\n\t"
      "add %[w3], %[w2], %[in]\n\t"
      "lsrs lr, %[in], #4\n\t"
      "wls lr, lr, 2f\n"
      "1:\n\t"
      "vldrb.u8 %q[xv], [%[xp]], #16\n\t"
      "vldrb.u8 %q[v0], [%[w0]], #16\n\t"
      "vldrb.u8 %q[v1], [%[w1]], #16\n\t"
      "vldrb.u8 %q[v2], [%[w2]], #16\n\t"
      "vldrb.u8 %q[v3], [%[w3]], #16\n\t"
      "vmladava.s8 %[a0], %q[v0], %q[xv]\n\t"
      "vmladava.s8 %[a1], %q[v1], %q[xv]\n\t"
      "vmladava.s8 %[a2], %q[v2], %q[xv]\n\t"
      "vmladava.s8 %[a3], %q[v3], %q[xv]\n\t"
      "le lr, 1b\n"
      "2:\n\t"
      "ands lr, %[in], #15\n\t"
      "beq 3f\n\t"
      "vctp.8 lr\n\t"
      "vpstttt\n\t"
      "vldrbt.u8 %q[xv], [%[xp]]\n\t"
      "vldrbt.u8 %q[v0], [%[w0]]\n\t"
      "vldrbt.u8 %q[v1], [%[w1]]\n\t"
      "vldrbt.u8 %q[v2], [%[w2]]\n\t"
      "vpst\n\t"
      "vldrbt.u8 %q[v3], [%[w3]]\n\t"
      "vmladava.s8 %[a0], %q[v0], %q[xv]\n\t"
      "vmladava.s8 %[a1], %q[v1], %q[xv]\n\t"
      "vmladava.s8 %[a2], %q[v2], %q[xv]\n\t"
      "vmladava.s8 %[a3], %q[v3], %q[xv]\n\t"
      "add %[w3], %[w3], lr\n"
      "3:\n\t"
      "mov %[w0], %[w3]\n\t"
      "ldr %[xp], [sp, #4]\n\t"
      "strd %[a0], %[a1], [%[dot]], #8\n\t"
      "strd %[a2], %[a3], [%[dot]], #8\n\t"
      "ldr lr, [sp]\n\t"
      "cmp %[dot], lr\n\t"
      "bne 0b\n\t"
      "add sp, sp, #8\n"
      : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [w0] "+r"(w0), [w1] "+r"(w1),
        [w2] "=&r"(w2), [w3] "=&r"(w3), [xp] "+r"(xp), [bias] "+r"(bias), [dot] "+r"(dot), [xv] "=&w"(xv),
        [v0] "=&w"(v0), [v1] "=&w"(v1), [v2] "=&w"(v2), [v3] "=&w"(v3)
      : [in] "r"(in)
      : "cc", "memory", "lr");
}

/* One row (the last one to three of a layer). */
static void dense_row1(const int8_t *w, const int8_t *x, uint32_t in, const int32_t *bias, int32_t *dot) {
  int32_t s = *bias;
  uint32_t k = 0;
  for (; k + 16u <= in; k += 16u) s = vmladavaq_s8(s, vld1q_s8(w + k), vld1q_s8(x + k));
  if (k < in) {
    const mve_pred16_t p = vctp8q(in - k);
    s = vmladavaq_s8(s, vldrbq_z_s8(w + k, p), vldrbq_z_s8(x + k, p));
  }
  *dot = s;
}

INLINE void dense_impl(const hil_fc_args_t *a, const int8_t *w, const rq_t *q, const int mode, const int pc) {
  const uint32_t in = a->in_features, out = a->out_features;
  int32_t dot[BATCH];
  for (uint32_t o0 = 0; o0 < out; o0 += BATCH) {
    const uint32_t n = out - o0 < BATCH ? out - o0 : BATCH, n4 = n & ~3u;
    dense_rows4(w + o0 * in, a->x, in, a->bias_eff + o0, dot, n4 >> 2);
    for (uint32_t i = n4; i < n; i++) dense_row1(w + (o0 + i) * in, a->x, in, a->bias_eff + o0 + i, dot + i);
    requant_run(q, o0, dot, n, mode, pc);
  }
}
INSTANTIATE(dense, dense_impl, (const hil_fc_args_t *a, const int8_t *w, const rq_t *q), a, w, q)

void hil_fc_dense_mve(const hil_fc_args_t *a, const int8_t *w) {
  rq_t q;
  const int mode = rq_init(&q, a);
  DISPATCH(dense, mode, a->per_channel, a, w, &q);
}

/* ---- block-sparse fast paths ---- */

/* Where a fast path is in the weights: the next block row's row_ptr entry, column index, block (as a
 * gather base, see each kernel) and bias. Block rows are consecutive, so all four only move forward. */
typedef struct {
  const uint16_t *rp;
  const uint16_t *col;
  const int32_t *bias;
  uint32x4_t addr;
} bstream_t;

/* One row r of the blocks at the gather base, into accumulator i. */
#define ASM_ROW(i, t, imm, xv)                                                                      \
  "vldrw.u32 %q[" #t "], [%q[addr], #" #imm "]\n\t"                                                 \
  "vmladava.s8 %[a" #i "], %q[" #t "], %q[" #xv "]\n\t"
/* Rows 2i and 2i+1 with loads predicated by P0 (inactive lanes read nothing and load 0). */
#define ASM_ROW_PAIR_Z(i, j, imm, xv)                                                               \
  "vpstt\n\t"                                                                                       \
  "vldrwt.u32 %q[t0], [%q[addr], #" #imm "]\n\t"                                                    \
  "vldrwt.u32 %q[t1], [%q[addr], #" #imm "+8]\n\t"                                                  \
  "vmladava.s8 %[a" #i "], %q[t0], %q[" #xv "]\n\t"                                                 \
  "vmladava.s8 %[a" #j "], %q[t1], %q[" #xv "]\n\t"

/* 8x8: rows 0-7 of two blocks at gather lanes {0, 4, 64, 68} + imm. */
#define ASM_8ROWS(imm, xv)                                                                          \
  ASM_ROW(0, t0, imm, xv) ASM_ROW(1, t1, imm + 8, xv) ASM_ROW(2, t0, imm + 16, xv)                  \
  ASM_ROW(3, t1, imm + 24, xv) ASM_ROW(4, t0, imm + 32, xv) ASM_ROW(5, t1, imm + 40, xv)            \
  ASM_ROW(6, t0, imm + 48, xv) ASM_ROW(7, t1, imm + 56, xv)
/* A pair of 8x8 blocks: their column indices in lanes 0 and 2, one 64-bit gather of x. No flags. */
#define ASM_8x8_PAIR(imm)                                                                           \
  "vldrh.u32 %q[t0], [%[col], %q[ca]]\n\t"                                                          \
  "add %[col], %[col], #4\n\t"                                                                      \
  "vldrd.u64 %q[xa], [%[x], %q[t0], uxtw #3]\n\t"                                                   \
  ASM_8ROWS(imm, xa)
/* A single 8x8 block: lanes 0-1 only. */
#define ASM_8x8_SINGLE(imm)                                                                         \
  "movs %[cnt], #2\n\t"                                                                             \
  "vctp.32 %[cnt]\n\t"                                                                              \
  "vpstt\n\t"                                                                                       \
  "vldrht.u32 %q[t0], [%[col], %q[ca]]\n\t"                                                         \
  "vldrdt.u64 %q[xa], [%[x], %q[t0], uxtw #3]\n\t"                                                  \
  "add %[col], %[col], #2\n\t"                                                                      \
  ASM_ROW_PAIR_Z(0, 1, imm, xa) ASM_ROW_PAIR_Z(2, 3, imm + 16, xa)                                  \
  ASM_ROW_PAIR_Z(4, 5, imm + 32, xa) ASM_ROW_PAIR_Z(6, 7, imm + 48, xa)

/* `rows` 8x8 block rows: dot[8i + r] = bias + row r of block row i times x.
 *
 * Per block row, four blocks per iteration: column indices k, k+1 land in lanes 0 and 2 of one vector
 * and k+2, k+3 in another (VLDRD takes each offset from the low word of its 64-bit lane), so each
 * 64-bit gather brings two blocks' 8-byte slices of x; row r of blocks k and k+1 is one 32-bit gather at
 * {0, 4, 64, 68} + 8r, of k+2 and k+3 the same + 128. The gather base `addr` stays 256 bytes before the
 * next block: the first load of an iteration steps it (write-back), a pair and a single block (n & 2,
 * n & 1, half the lanes) finish the block row and step it with one VADD. The count runs down by 4 from
 * n - 4, so its low two bits are n & 3 when the loop ends. VMLADAV accumulates only into even registers
 * (constraint "Te"), so the eight accumulators take all of them, lr included; with the row_ptr, column,
 * bias and output pointers, x and the count that would be 14 registers, one more than GCC 12 gives an
 * asm statement, so the row_ptr pointer (two more instructions per block row) and the end of the batch
 * wait on the stack. (Written with intrinsics, GCC spills accumulators in the inner loop.) */
static __attribute__((noinline)) void bc8x8_rows(bstream_t *s, const int8_t *x, int32_t *dot, uint32_t rows) {
  const uint16_t *col = s->col;
  const int32_t *bias = s->bias;
  uint32x4_t addr = s->addr;
  const uint32x4_t ca = {0, 0, 2, 2}, cb = {4, 4, 6, 6};
  /* The end of the batch and the row_ptr pointer wait on the stack, 8 bytes below GCC's frame. */
  uint32_t cnt = (uint32_t)(uintptr_t)(dot + 8u * rows), a0 = (uint32_t)(uintptr_t)s->rp;
  int32_t a1, a2, a3, a4, a5, a6, a7;
  uint32x4_t t0, t1, xa, xb;
  __asm volatile(
      "sub sp, sp, #8\n\t"
      "strd %[cnt], %[a0], [sp]\n"
      "0:\n\t"
      "ldr %[a1], [sp, #4]\n\t"
      "ldrh %[cnt], [%[a1], #2]\n\t"
      "ldrh %[a0], [%[a1]], #2\n\t"
      "str %[a1], [sp, #4]\n\t"
      "subs %[cnt], %[cnt], %[a0]\n\t"
      "ldrd %[a0], %[a1], [%[bias]], #8\n\t"
      "ldrd %[a2], %[a3], [%[bias]], #8\n\t"
      "ldrd %[a4], %[a5], [%[bias]], #8\n\t"
      "ldrd %[a6], %[a7], [%[bias]], #8\n\t"
      "subs %[cnt], %[cnt], #4\n\t"
      "blt 2f\n"
      "1:\n\t"
      "vldrh.u32 %q[t0], [%[col], %q[ca]]\n\t"
      "vldrh.u32 %q[t1], [%[col], %q[cb]]\n\t"
      "add %[col], %[col], #8\n\t"
      "vldrd.u64 %q[xa], [%[x], %q[t0], uxtw #3]\n\t"
      "vldrd.u64 %q[xb], [%[x], %q[t1], uxtw #3]\n\t"
      "vldrw.u32 %q[t0], [%q[addr], #256]!\n\t"
      "vmladava.s8 %[a0], %q[t0], %q[xa]\n\t"
      ASM_ROW(1, t1, 8, xa) ASM_ROW(2, t0, 16, xa) ASM_ROW(3, t1, 24, xa) ASM_ROW(4, t0, 32, xa)
      ASM_ROW(5, t1, 40, xa) ASM_ROW(6, t0, 48, xa) ASM_ROW(7, t1, 56, xa)
      ASM_8ROWS(128, xb)
      "subs %[cnt], %[cnt], #4\n\t"
      "bge 1b\n"
      "2:\n\t"
      "lsls %[cnt], %[cnt], #31\n\t" /* C: a pair left (bit 1), N: a single one (bit 0) */
      "bcc 4f\n\t"
      ASM_8x8_PAIR(256)
      "bpl 3f\n\t"
      ASM_8x8_SINGLE(384)
      "movs %[cnt], #192\n\t"
      "b 5f\n"
      "3:\n\t"
      "movs %[cnt], #128\n\t"
      "b 5f\n"
      "4:\n\t"
      "bpl 6f\n\t"
      ASM_8x8_SINGLE(256)
      "movs %[cnt], #64\n"
      "5:\n\t"
      "vadd.i32 %q[addr], %q[addr], %[cnt]\n"
      "6:\n\t"
      "strd %[a0], %[a1], [%[dot]], #8\n\t"
      "strd %[a2], %[a3], [%[dot]], #8\n\t"
      "strd %[a4], %[a5], [%[dot]], #8\n\t"
      "strd %[a6], %[a7], [%[dot]], #8\n\t"
      "ldr %[a0], [sp]\n\t"
      "cmp %[dot], %[a0]\n\t"
      "bne 0b\n\t"
      "ldr %[a0], [sp, #4]\n\t"
      "add sp, sp, #8\n"
      : [a0] "+Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [a4] "=&Te"(a4), [a5] "=&Te"(a5),
        [a6] "=&Te"(a6), [a7] "=&Te"(a7), [col] "+r"(col), [bias] "+r"(bias), [dot] "+r"(dot),
        [cnt] "+r"(cnt), [addr] "+w"(addr), [t0] "=&w"(t0), [t1] "=&w"(t1), [xa] "=&w"(xa), [xb] "=&w"(xb)
      : [x] "r"(x), [ca] "w"(ca), [cb] "w"(cb)
      : "cc", "memory");
  s->rp = (const uint16_t *)(uintptr_t)a0;
  s->col = col;
  s->bias = bias;
  s->addr = addr;
}

/* `rows` 4x4 block rows: four blocks per iteration (a low-overhead loop); their column indices, widened
 * to words, index x's four 4-byte slices in one gather; row r of the four blocks is one gather at
 * {0, 16, 32, 48} + 4r. The gather base stays 64 bytes before the next block (write-back on an
 * iteration's first load). One to three blocks left: the same with fewer lanes, then one VADD. */
static __attribute__((noinline)) void bc4x4_rows(bstream_t *s, const int8_t *x, int32_t *dot, uint32_t rows) {
  const uint16_t *rp = s->rp, *col = s->col;
  const int32_t *bias = s->bias;
  uint32x4_t addr = s->addr;
  int32_t *const end = dot + 4u * rows;
  int32_t a0, a1, a2, a3;
  uint32_t cnt, n;
  uint32x4_t t0, t1, xa;
  __asm volatile(
      "0:\n\t"
      "ldrh %[cnt], [%[rp], #2]\n\t"
      "ldrh %[a0], [%[rp]], #2\n\t"
      "subs %[n], %[cnt], %[a0]\n\t"
      "ldrd %[a0], %[a1], [%[bias]], #8\n\t"
      "ldrd %[a2], %[a3], [%[bias]], #8\n\t"
      "lsrs %[cnt], %[n], #2\n\t"
      "wls lr, %[cnt], 2f\n"
      "1:\n\t"
      "vldrh.u32 %q[t0], [%[col]], #8\n\t"
      "vldrw.u32 %q[xa], [%[x], %q[t0], uxtw #2]\n\t"
      "vldrw.u32 %q[t0], [%q[addr], #64]!\n\t"
      "vmladava.s8 %[a0], %q[t0], %q[xa]\n\t"
      ASM_ROW(1, t1, 4, xa) ASM_ROW(2, t0, 8, xa) ASM_ROW(3, t1, 12, xa)
      "le lr, 1b\n"
      "2:\n\t"
      "ands %[cnt], %[n], #3\n\t"
      "beq 3f\n\t"
      "vctp.32 %[cnt]\n\t"
      "vpstt\n\t"
      "vldrht.u32 %q[t0], [%[col]]\n\t"
      "vldrwt.u32 %q[xa], [%[x], %q[t0], uxtw #2]\n\t"
      "add %[col], %[col], %[cnt], lsl #1\n\t"
      "vpstt\n\t"
      "vldrwt.u32 %q[t0], [%q[addr], #64]\n\t"
      "vldrwt.u32 %q[t1], [%q[addr], #68]\n\t"
      "vmladava.s8 %[a0], %q[t0], %q[xa]\n\t"
      "vmladava.s8 %[a1], %q[t1], %q[xa]\n\t"
      "vpstt\n\t"
      "vldrwt.u32 %q[t0], [%q[addr], #72]\n\t"
      "vldrwt.u32 %q[t1], [%q[addr], #76]\n\t"
      "vmladava.s8 %[a2], %q[t0], %q[xa]\n\t"
      "vmladava.s8 %[a3], %q[t1], %q[xa]\n\t"
      "lsls %[cnt], %[cnt], #4\n\t"
      "vadd.i32 %q[addr], %q[addr], %[cnt]\n"
      "3:\n\t"
      "strd %[a0], %[a1], [%[dot]], #8\n\t"
      "strd %[a2], %[a3], [%[dot]], #8\n\t"
      "cmp %[dot], %[end]\n\t"
      "bne 0b\n"
      : [a0] "=&Te"(a0), [a1] "=&Te"(a1), [a2] "=&Te"(a2), [a3] "=&Te"(a3), [rp] "+r"(rp), [col] "+r"(col),
        [bias] "+r"(bias), [dot] "+r"(dot), [cnt] "=&r"(cnt), [n] "=&r"(n), [addr] "+w"(addr), [t0] "=&w"(t0),
        [t1] "=&w"(t1), [xa] "=&w"(xa)
      : [x] "r"(x), [end] "r"(end)
      : "cc", "memory", "lr");
  s->rp = rp;
  s->col = col;
  s->bias = bias;
  s->addr = addr;
}

/* `rows` 1x16 block rows (one output each): four blocks per iteration, transposed. Their column indices
 * times 16 plus x make a vector of the slices' addresses, so the gather at +4j holds word j of each
 * block's slice of x, and the gather {0, 16, 32, 48} + 4j word j of each block: one VMLADAV sums 16
 * products of this row. Blocks left over (n & 3) go one at a time, with contiguous loads of the block
 * and its slice of x. The gather base stays 64 bytes before the next block. */
static __attribute__((noinline)) void bc1x16_rows(bstream_t *s, const int8_t *x, int32_t *dot, uint32_t rows) {
  const uint16_t *rp = s->rp, *col = s->col;
  const int32_t *bias = s->bias;
  uint32x4_t addr = s->addr;
  int32_t *const end = dot + rows;
  int32_t acc;
  uint32_t cnt, n, c, pb;
  uint32x4_t t0, t1, x0, x1, x2;
  __asm volatile(
      "0:\n\t"
      "ldrh %[cnt], [%[rp], #2]\n\t"
      "ldrh %[acc], [%[rp]], #2\n\t"
      "subs %[n], %[cnt], %[acc]\n\t"
      "ldr %[acc], [%[bias]], #4\n\t"
      "lsrs %[cnt], %[n], #2\n\t"
      "wls lr, %[cnt], 2f\n"
      "1:\n\t"
      "vldrh.u32 %q[t0], [%[col]], #8\n\t"
      "vshl.i32 %q[t0], %q[t0], #4\n\t"
      "vadd.i32 %q[t0], %q[t0], %[x]\n\t"
      "vldrw.u32 %q[x0], [%q[t0]]\n\t"
      "vldrw.u32 %q[x1], [%q[t0], #4]\n\t"
      "vldrw.u32 %q[x2], [%q[t0], #8]\n\t"
      "vldrw.u32 %q[t1], [%q[t0], #12]\n\t"
      "vldrw.u32 %q[t0], [%q[addr], #64]!\n\t"
      "vmladava.s8 %[acc], %q[t0], %q[x0]\n\t"
      "vldrw.u32 %q[t0], [%q[addr], #4]\n\t"
      "vmladava.s8 %[acc], %q[t0], %q[x1]\n\t"
      "vldrw.u32 %q[t0], [%q[addr], #8]\n\t"
      "vmladava.s8 %[acc], %q[t0], %q[x2]\n\t"
      "vldrw.u32 %q[t0], [%q[addr], #12]\n\t"
      "vmladava.s8 %[acc], %q[t0], %q[t1]\n\t"
      "le lr, 1b\n"
      "2:\n\t"
      "ands %[cnt], %[n], #3\n\t"
      "beq 4f\n\t"
      "vmov.32 %[pb], %q[addr][0]\n\t"
      "lsls %[c], %[cnt], #4\n\t"
      "vadd.i32 %q[addr], %q[addr], %[c]\n\t"
      "adds %[pb], %[pb], #64\n"
      "3:\n\t"
      "ldrh %[c], [%[col]], #2\n\t"
      "add %[c], %[x], %[c], lsl #4\n\t"
      "vldrb.u8 %q[t0], [%[c]]\n\t"
      "vldrb.u8 %q[t1], [%[pb]], #16\n\t"
      "vmladava.s8 %[acc], %q[t1], %q[t0]\n\t"
      "subs %[cnt], %[cnt], #1\n\t"
      "bne 3b\n"
      "4:\n\t"
      "str %[acc], [%[dot]], #4\n\t"
      "cmp %[dot], %[end]\n\t"
      "bne 0b\n"
      : [acc] "=&Te"(acc), [rp] "+r"(rp), [col] "+r"(col), [bias] "+r"(bias), [dot] "+r"(dot), [cnt] "=&r"(cnt),
        [n] "=&r"(n), [c] "=&r"(c), [pb] "=&r"(pb), [addr] "+w"(addr), [t0] "=&w"(t0), [t1] "=&w"(t1),
        [x0] "=&w"(x0), [x1] "=&w"(x1), [x2] "=&w"(x2)
      : [x] "r"(x), [end] "r"(end)
      : "cc", "memory", "lr");
  s->rp = rp;
  s->col = col;
  s->bias = bias;
  s->addr = addr;
}

/* `rows` 16x1 block rows: a block is 16 rows of one column, so each is one x value times 16 weights,
 * accumulated lane-wise (VMLA) into four vectors of four rows that start at the bias. */
static __attribute__((noinline)) void bc16x1_rows(bstream_t *s, const int8_t *x, int32_t *dot, uint32_t rows) {
  const uint16_t *rp = s->rp, *col = s->col;
  const int32_t *bias = s->bias;
  const int8_t *blk = (const int8_t *)(uintptr_t)vgetq_lane_u32(s->addr, 0);
  for (uint32_t i = 0; i < rows; i++, rp++, bias += 16, dot += 16) {
    int32x4_t a0 = vld1q_s32(bias), a1 = vld1q_s32(bias + 4), a2 = vld1q_s32(bias + 8), a3 = vld1q_s32(bias + 12);
    for (uint32_t n = (uint32_t)rp[1] - rp[0]; n; n--, blk += 16) {
      const int32_t xv = x[*col++];
      a0 = vmlaq_n_s32(a0, vldrbq_s32(blk), xv);
      a1 = vmlaq_n_s32(a1, vldrbq_s32(blk + 4), xv);
      a2 = vmlaq_n_s32(a2, vldrbq_s32(blk + 8), xv);
      a3 = vmlaq_n_s32(a3, vldrbq_s32(blk + 12), xv);
    }
    vst1q_s32(dot, a0);
    vst1q_s32(dot + 4, a1);
    vst1q_s32(dot + 8, a2);
    vst1q_s32(dot + 12, a3);
  }
  s->rp = rp;
  s->col = col;
  s->bias = bias;
  s->addr = vdupq_n_u32((uint32_t)(uintptr_t)blk);
}

typedef void rows_fn_t(bstream_t *s, const int8_t *x, int32_t *dot, uint32_t rows);

/* A whole layer with one of the fast paths (br x bc, the gather lanes and how far before the first block
 * the base starts): batches of whole block rows, each requantised in one loop; a last partial block row
 * takes its bias from a zero-padded copy (its rows past `out` are computed, never written). */
INLINE void bfast_impl(const hil_fc_args_t *a, const hil_fc_block_t *w, const rq_t *q, rows_fn_t *rows_fn,
                       uint32_t br, uint32x4_t lanes, uint32_t before, const int mode, const int pc) {
  const uint32_t out = a->out_features, nfull = out / br, per_batch = BATCH / br;
  const uint32_t k0 = w->row_ptr[0];
  bstream_t s = {w->row_ptr, w->col_idx + k0, a->bias_eff,
                 vaddq_n_u32(lanes, (uint32_t)(uintptr_t)(w->blocks + k0 * br * w->bc) - before)};
  int32_t dot[BATCH];
  for (uint32_t rb = 0; rb < nfull; rb += per_batch) {
    const uint32_t rows = nfull - rb < per_batch ? nfull - rb : per_batch;
    rows_fn(&s, a->x, dot, rows);
    requant_run(q, rb * br, dot, rows * br, mode, pc);
  }
  if (nfull * br < out) {
    const uint32_t o = nfull * br;
    int32_t bias[16] = {0};
    for (uint32_t r = 0; o + r < out; r++) bias[r] = a->bias_eff[o + r];
    s.bias = bias;
    rows_fn(&s, a->x, dot, 1);
    requant_run(q, o, dot, out - o, mode, pc);
  }
}

#define BFAST(NAME, FN, BR, LANES, BEFORE)                                                               \
  INLINE void NAME##_impl(const hil_fc_args_t *a, const hil_fc_block_t *w, const rq_t *q, const int mode, \
                          const int pc) {                                                                 \
    bfast_impl(a, w, q, FN, BR, LANES, BEFORE, mode, pc);                                                 \
  }                                                                                                       \
  INSTANTIATE(NAME, NAME##_impl, (const hil_fc_args_t *a, const hil_fc_block_t *w, const rq_t *q), a, w, q)
BFAST(bc8x8, bc8x8_rows, 8u, ((uint32x4_t){0, 4, 64, 68}), 256u)
BFAST(bc4x4, bc4x4_rows, 4u, ((uint32x4_t){0, 16, 32, 48}), 64u)
BFAST(bc1x16, bc1x16_rows, 1u, ((uint32x4_t){0, 16, 32, 48}), 64u)
BFAST(bc16x1, bc16x1_rows, 16u, vdupq_n_u32(0), 0u)

/* ---- block-sparse, general shapes with widths 4, 8 and 16 ---- */

/* Accumulators for up to 8 rows of a block row live in registers, so each row gets its own macro line
 * (and each gather its literal immediate offset, which GCC requires). GCC 12's write-back gather
 * intrinsics emit two gathers each, so they are not used. */
#define ACC_DECL                                                                           \
  int32_t acc0 = dot[0], acc1 = R > 1 ? dot[1] : 0, acc2 = R > 2 ? dot[2] : 0,             \
          acc3 = R > 2 ? dot[3] : 0, acc4 = R > 4 ? dot[4] : 0, acc5 = R > 4 ? dot[5] : 0,  \
          acc6 = R > 4 ? dot[6] : 0, acc7 = R > 4 ? dot[7] : 0
#define ACC_STORE                                                                          \
  do {                                                                                     \
    dot[0] = acc0;                                                                         \
    if (R > 1) dot[1] = acc1;                                                              \
    if (R > 2) { dot[2] = acc2; dot[3] = acc3; }                                           \
    if (R > 4) { dot[4] = acc4; dot[5] = acc5; dot[6] = acc6; dot[7] = acc7; }             \
  } while (0)
#define ROWS(LOAD, bytes)                                                                  \
  do {                                                                                     \
    acc0 = vmladavaq_s8(acc0, LOAD(0, bytes), xv);                                         \
    if (R > 1) acc1 = vmladavaq_s8(acc1, LOAD(1, bytes), xv);                              \
    if (R > 2) {                                                                           \
      acc2 = vmladavaq_s8(acc2, LOAD(2, bytes), xv);                                       \
      acc3 = vmladavaq_s8(acc3, LOAD(3, bytes), xv);                                       \
    }                                                                                      \
    if (R > 4) {                                                                           \
      acc4 = vmladavaq_s8(acc4, LOAD(4, bytes), xv);                                       \
      acc5 = vmladavaq_s8(acc5, LOAD(5, bytes), xv);                                       \
      acc6 = vmladavaq_s8(acc6, LOAD(6, bytes), xv);                                       \
      acc7 = vmladavaq_s8(acc7, LOAD(7, bytes), xv);                                       \
    }                                                                                      \
  } while (0)
#define LOAD_ROW(r, bytes) vld1q_s8(blk + (r) * (bytes))
#define GATHER_ROW(r, bytes) vreinterpretq_s8_s32(vldrwq_gather_base_s32(addr, (r) * (bytes)))
#define GATHER_ROW_Z(r, bytes) vreinterpretq_s8_s32(vldrwq_gather_base_z_s32(addr, (r) * (bytes), p))

/* What a pass over one block row needs: `blk` is the first block's row r0, `stride` a block's size. */
typedef struct {
  const int8_t *x;
  const int8_t *blk;
  const uint16_t *col;
  uint32_t nblk, stride;
  uint32x4_t lanes; /* gather lane offsets within a group of blocks */
} pass_t;

/* Width 16: a block row is one vector, and so is its slice of x. */
INLINE void pass_bc16(const pass_t *ps, int32_t *dot, const int R) {
  const int8_t *blk = ps->blk;
  const uint16_t *col = ps->col;
  ACC_DECL;
  for (uint32_t k = 0; k < ps->nblk; k++) {
    const int8x16_t xv = vld1q_s8(ps->x + (uint32_t)*col++ * 16u);
    ROWS(LOAD_ROW, 16);
    blk += ps->stride;
  }
  ACC_STORE;
}

/* Width 8: two blocks at a time. x's two 8-byte slices come in one 64-bit gather indexed by the two
 * column indices, gathered into lanes 0 and 2 (VLDRD takes each offset from the low word of its 64-bit
 * lane, so lanes 1 and 3 do not matter); row r of both blocks is one 32-bit gather at lane addresses
 * {0, 4, s, s + 4} + 8r, s being a block's size. */
INLINE void pass_bc8(const pass_t *ps, int32_t *dot, const int R) {
  const uint32x4_t col_offsets = {0, 0, 2, 2};
  const uint64_t *x64 = (const uint64_t *)(const void *)ps->x;
  uint32x4_t addr = vaddq_n_u32(ps->lanes, (uint32_t)(uintptr_t)ps->blk);
  const uint32x4_t step = vdupq_n_u32(2u * ps->stride);
  const uint16_t *col = ps->col;
  ACC_DECL;
  for (uint32_t k = ps->nblk >> 1; k; k--) {
    const uint32x4_t c = vldrhq_gather_offset_u32(col, col_offsets);
    const int8x16_t xv = vreinterpretq_s8_u64(vldrdq_gather_shifted_offset_u64(x64, vreinterpretq_u64_u32(c)));
    ROWS(GATHER_ROW, 8);
    addr = vaddq_u32(addr, step);
    col += 2;
  }
  if (ps->nblk & 1u) { /* one block left: lanes 0-1 only */
    const mve_pred16_t p = vctp32q(2);
    const uint32x4_t c = vldrhq_gather_offset_z_u32(col, col_offsets, p);
    const int8x16_t xv =
        vreinterpretq_s8_u64(vldrdq_gather_shifted_offset_z_u64(x64, vreinterpretq_u64_u32(c), p));
    ROWS(GATHER_ROW_Z, 8);
  }
  ACC_STORE;
}

/* Width 4: four blocks at a time. Their column indices widen into four 32-bit lanes, which index x's
 * four 4-byte slices in one gather; row r of the four blocks is one 32-bit gather at lane addresses
 * {0, s, 2s, 3s} + 4r. */
INLINE void pass_bc4(const pass_t *ps, int32_t *dot, const int R) {
  const int32_t *x32 = (const int32_t *)(const void *)ps->x;
  uint32x4_t addr = vaddq_n_u32(ps->lanes, (uint32_t)(uintptr_t)ps->blk);
  const uint32x4_t step = vdupq_n_u32(4u * ps->stride);
  const uint16_t *col = ps->col;
  ACC_DECL;
  for (uint32_t k = ps->nblk >> 2; k; k--) {
    const int8x16_t xv = vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_s32(x32, vldrhq_u32(col)));
    ROWS(GATHER_ROW, 4);
    addr = vaddq_u32(addr, step);
    col += 4;
  }
  if (ps->nblk & 3u) { /* one to three blocks left */
    const mve_pred16_t p = vctp32q(ps->nblk & 3u);
    const int8x16_t xv =
        vreinterpretq_s8_s32(vldrwq_gather_shifted_offset_z_s32(x32, vldrhq_z_u32(col, p), p));
    ROWS(GATHER_ROW_Z, 4);
  }
  ACC_STORE;
}

/* Eight-row passes: the main loop is assembly. VMLADAV accumulates only into even registers (r0, r2,
 * ..., r12, lr: constraint "Te"), so eight accumulators take all of them, lr included, and the loop
 * counts with subs/bne instead of a low-overhead loop. GCC 12 instead spills an accumulator and reloads
 * constants on every iteration (about 30 instructions per 128 MACs instead of 21-22). The loops are the
 * C passes above written out; their tails (a partial group) stay in C. */
#define ASM_ACC_OUT                                                                                 \
  [a0] "+Te"(acc0), [a1] "+Te"(acc1), [a2] "+Te"(acc2), [a3] "+Te"(acc3), [a4] "+Te"(acc4),            \
      [a5] "+Te"(acc5), [a6] "+Te"(acc6), [a7] "+Te"(acc7)
/* Rows 2i and 2i+1 of a partial group: loads predicated by P0 (inactive lanes read nothing, load 0). */
#define G_ROW_PAIR_Z(i, j, immi, immj)                                                          \
  "vpstt\n\t"                                                                                    \
  "vldrwt.u32 %q[w0], [%q[addr], #" #immi "]\n\t"                                                \
  "vldrwt.u32 %q[w1], [%q[addr], #" #immj "]\n\t"                                                \
  "vmladava.s8 %[a" #i "], %q[w0], %q[xv]\n\t"                                                   \
  "vmladava.s8 %[a" #j "], %q[w1], %q[xv]\n\t"
#define G_ROWS_Z(bytes)                                                                         \
  G_ROW_PAIR_Z(0, 1, 0, bytes) G_ROW_PAIR_Z(2, 3, 2 * bytes, 3 * bytes)                       \
  G_ROW_PAIR_Z(4, 5, 4 * bytes, 5 * bytes) G_ROW_PAIR_Z(6, 7, 6 * bytes, 7 * bytes)
#define G_ROW(i, q, imm) "vldrw.u32 %q[" #q "], [%q[addr], #" #imm "]\n\tvmladava.s8 %[a" #i "], %q[" #q "], %q[xv]\n\t"

static inline __attribute__((always_inline)) void pass_bc8_asm(const pass_t *ps, int32_t *dot, const int R) {
  const uint32x4_t col_offsets = {0, 0, 2, 2};
  const uint64_t *x64 = (const uint64_t *)(const void *)ps->x;
  uint32x4_t addr = vaddq_n_u32(ps->lanes, (uint32_t)(uintptr_t)ps->blk);
  const uint32x4_t step = vdupq_n_u32(2u * ps->stride);
  const uint16_t *col = ps->col;
  ACC_DECL;
  uint32_t pairs = ps->nblk >> 1;
  if (pairs) {
    uint32x4_t c;
    int8x16_t xv, w0, w1;
    __asm volatile(
        "1:\n\t"
        "vldrh.u32 %q[c], [%[col], %q[coff]]\n\t"
        "adds %[col], %[col], #4\n\t"
        "vldrd.u64 %q[xv], [%[x], %q[c], uxtw #3]\n\t"
        G_ROW(0, w0, 0) G_ROW(1, w1, 8) G_ROW(2, w0, 16) G_ROW(3, w1, 24)
        G_ROW(4, w0, 32) G_ROW(5, w1, 40) G_ROW(6, w0, 48) G_ROW(7, w1, 56)
        "vadd.i32 %q[addr], %q[addr], %q[step]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n"
        : ASM_ACC_OUT, [n] "+r"(pairs), [col] "+r"(col), [addr] "+w"(addr), [c] "=&w"(c), [xv] "=&w"(xv),
          [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [x] "r"(x64), [coff] "w"(col_offsets), [step] "w"(step)
        : "cc", "memory");
  }
  if (ps->nblk & 1u) { /* one block left: the same with lanes 0-1 only (zeroing predicated loads) */
    uint32x4_t c;
    int8x16_t xv, w0, w1;
    __asm volatile(
        "vctp.32 %[lanes]\n\t"
        "vpstt\n\t"
        "vldrht.u32 %q[c], [%[col], %q[coff]]\n\t"
        "vldrdt.u64 %q[xv], [%[x], %q[c], uxtw #3]\n\t"
        G_ROWS_Z(8)
        : ASM_ACC_OUT, [c] "=&w"(c), [xv] "=&w"(xv), [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [lanes] "r"(2), [col] "r"(col), [x] "r"(x64), [coff] "w"(col_offsets), [addr] "w"(addr)
        : "memory");
  }
  ACC_STORE;
}

static inline __attribute__((always_inline)) void pass_bc4_asm(const pass_t *ps, int32_t *dot, const int R) {
  const int32_t *x32 = (const int32_t *)(const void *)ps->x;
  uint32x4_t addr = vaddq_n_u32(ps->lanes, (uint32_t)(uintptr_t)ps->blk);
  const uint32x4_t step = vdupq_n_u32(4u * ps->stride);
  const uint16_t *col = ps->col;
  ACC_DECL;
  uint32_t quads = ps->nblk >> 2;
  if (quads) {
    uint32x4_t c;
    int8x16_t xv, w0, w1;
    __asm volatile(
        "1:\n\t"
        "vldrh.u32 %q[c], [%[col]], #8\n\t"
        "vldrw.u32 %q[xv], [%[x], %q[c], uxtw #2]\n\t"
        G_ROW(0, w0, 0) G_ROW(1, w1, 4) G_ROW(2, w0, 8) G_ROW(3, w1, 12)
        G_ROW(4, w0, 16) G_ROW(5, w1, 20) G_ROW(6, w0, 24) G_ROW(7, w1, 28)
        "vadd.i32 %q[addr], %q[addr], %q[step]\n\t"
        "subs %[n], %[n], #1\n\t"
        "bne 1b\n"
        : ASM_ACC_OUT, [n] "+r"(quads), [col] "+r"(col), [addr] "+w"(addr), [c] "=&w"(c), [xv] "=&w"(xv),
          [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [x] "r"(x32), [step] "w"(step)
        : "cc", "memory");
  }
  if (ps->nblk & 3u) { /* one to three blocks left: the same with fewer lanes */
    uint32x4_t c;
    int8x16_t xv, w0, w1;
    __asm volatile(
        "vctp.32 %[lanes]\n\t"
        "vpstt\n\t"
        "vldrht.u32 %q[c], [%[col]]\n\t"
        "vldrwt.u32 %q[xv], [%[x], %q[c], uxtw #2]\n\t"
        G_ROWS_Z(4)
        : ASM_ACC_OUT, [c] "=&w"(c), [xv] "=&w"(xv), [w0] "=&w"(w0), [w1] "=&w"(w1)
        : [lanes] "r"(ps->nblk & 3u), [col] "r"(col), [x] "r"(x32), [addr] "w"(addr)
        : "memory");
  }
  ACC_STORE;
}

/* One pass (R rows from r0) over each of the block rows [rb0, rb1): a function of its own, so that its
 * accumulators get the registers, and a loop, so that its call and set-up are paid once per batch. */
typedef struct {
  const int8_t *x, *blocks;
  const uint16_t *row_ptr, *col_idx;
  uint32_t br, stride;
  uint32x4_t lanes;
} rows_t;

#define PASS_FN(NAME, PASS, BC, R)                                                                      \
  static __attribute__((noinline)) void NAME(const rows_t *L, uint32_t rb0, uint32_t rb1, uint32_t r0,    \
                                             int32_t *dot) {                                            \
    pass_t ps = {L->x, 0, 0, 0, L->stride, L->lanes};                                                   \
    for (uint32_t rb = rb0; rb < rb1; rb++, dot += L->br) {                                             \
      const uint32_t k0 = L->row_ptr[rb];                                                               \
      ps.blk = L->blocks + k0 * L->stride + r0 * (BC);                                                  \
      ps.col = L->col_idx + k0;                                                                         \
      ps.nblk = L->row_ptr[rb + 1] - k0;                                                                \
      PASS(&ps, dot + r0, R);                                                                           \
    }                                                                                                   \
  }
PASS_FN(rows_bc16_8, pass_bc16, 16u, 8) PASS_FN(rows_bc16_4, pass_bc16, 16u, 4)
PASS_FN(rows_bc16_2, pass_bc16, 16u, 2) PASS_FN(rows_bc16_1, pass_bc16, 16u, 1)
PASS_FN(rows_bc8_8, pass_bc8_asm, 8u, 8) PASS_FN(rows_bc8_4, pass_bc8, 8u, 4)
PASS_FN(rows_bc8_2, pass_bc8, 8u, 2) PASS_FN(rows_bc8_1, pass_bc8, 8u, 1)
PASS_FN(rows_bc4_8, pass_bc4_asm, 4u, 8) PASS_FN(rows_bc4_4, pass_bc4, 4u, 4)
PASS_FN(rows_bc4_2, pass_bc4, 4u, 2) PASS_FN(rows_bc4_1, pass_bc4, 4u, 1)

/* The whole layer for one block width: batches of block rows whose dot products fit DOT_BATCH, started
 * at the bias; per batch, passes of 8, 4, 2 and 1 rows, then the vector requantisation. Rows past `out`
 * are computed (their weights are zero padding) but never written. */
#define BLOCK_LAYER(NAME, ROWS_FN, BC, LANES)                                                           \
  static void NAME(const hil_fc_args_t *a, const hil_fc_block_t *w, const rq_t *q, int mode) {          \
    const uint32_t br = w->br, out = a->out_features, nbr = (out + br - 1u) / br;                       \
    const uint32_t per_batch = BATCH / br;                                                          \
    const rows_t L = {a->x, w->blocks, w->row_ptr, w->col_idx, br, br * (BC), LANES};                   \
    int32_t dot[BATCH];                                                                             \
    for (uint32_t rb0 = 0; rb0 < nbr; rb0 += per_batch) {                                               \
      const uint32_t rb1 = rb0 + per_batch < nbr ? rb0 + per_batch : nbr;                               \
      const uint32_t o0 = rb0 * br, n = (rb1 - rb0) * br, valid = o0 + n <= out ? n : out - o0;         \
      for (uint32_t i = 0; i < n; i++) dot[i] = i < valid ? a->bias_eff[o0 + i] : 0;                    \
      uint32_t r = 0;                                                                                   \
      for (; r + 8 <= br; r += 8) ROWS_FN##_8(&L, rb0, rb1, r, dot);                                    \
      if (br - r >= 4) { ROWS_FN##_4(&L, rb0, rb1, r, dot); r += 4; }                                   \
      if (br - r >= 2) { ROWS_FN##_2(&L, rb0, rb1, r, dot); r += 2; }                                   \
      if (br - r >= 1) ROWS_FN##_1(&L, rb0, rb1, r, dot);                                               \
      DISPATCH(requant_batch, mode, a->per_channel, q, o0, dot, valid);                                 \
    }                                                                                                   \
  }

BLOCK_LAYER(block_layer_bc16, rows_bc16, 16u, vdupq_n_u32(0))
BLOCK_LAYER(block_layer_bc8, rows_bc8, 8u, ((uint32x4_t){0, 4, br * 8u, br * 8u + 4}))
BLOCK_LAYER(block_layer_bc4, rows_bc4, 4u, ((uint32x4_t){0, br * 4u, br * 8u, br * 12u}))

void hil_fc_block_mve(const hil_fc_args_t *a, const hil_fc_block_t *w) {
  const int pc = a->per_channel;
  rq_t q;
  const unsigned shape = (unsigned)w->br << 8 | w->bc;
  int mode;
  switch (shape) {
    case 8u << 8 | 8u: mode = rq_init(&q, a); DISPATCH(bc8x8, mode, pc, a, w, &q); return;
    case 4u << 8 | 4u: mode = rq_init(&q, a); DISPATCH(bc4x4, mode, pc, a, w, &q); return;
    case 1u << 8 | 16u: mode = rq_init(&q, a); DISPATCH(bc1x16, mode, pc, a, w, &q); return;
    case 16u << 8 | 1u: mode = rq_init(&q, a); DISPATCH(bc16x1, mode, pc, a, w, &q); return;
    default: break;
  }
  switch (w->bc) {
    case 16: mode = rq_init(&q, a); block_layer_bc16(a, w, &q, mode); break;
    case 8: mode = rq_init(&q, a); block_layer_bc8(a, w, &q, mode); break;
    case 4: mode = rq_init(&q, a); block_layer_bc4(a, w, &q, mode); break;
    default: hil_fc_block_scalar(a, w); break;
  }
}

/* ---- element-wise ops (docs/model-format.md §5): four lanes of int32, the same exact requantisation ---- */

/* mbqm of four values with one multiplier and shift (an element-wise op's parameters): left shift
 * (wrapping, VSHL by register), VQRDMULH = srdhm, then rdbpot as VRSHL after the fix-up (e > 0: every
 * lane, since the shift is the same). */
INLINE int32x4_t mbqm_n(int32x4_t x, int32_t m, int left, int right) {
  x = vqrdmulhq_n_s32(vshlq_r_s32(x, left), m);
  if (right) x = vqaddq_s32(x, vshrq_n_s32(x, 31));
  return vrshlq_n_s32(x, right);
}

INLINE void add_impl(const hil_add_params_t *p, const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n,
                     const int subtract) {
  const int l1 = p->sh1 > 0 ? p->sh1 : 0, r1 = p->sh1 > 0 ? 0 : p->sh1;
  const int l2 = p->sh2 > 0 ? p->sh2 : 0, r2 = p->sh2 > 0 ? 0 : p->sh2;
  const int lo_ = p->sho > 0 ? p->sho : 0, ro = p->sho > 0 ? 0 : p->sho;
  const int32_t zp1 = p->zp1, zp2 = p->zp2, m1 = p->m1, m2 = p->m2, mo = p->mo, zp = p->out_zp;
  const int ls = p->left_shift;
  const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
  for (uint32_t i = 0; i < n; i += 4u) {
    const mve_pred16_t pr = vctp32q(n - i);
    /* |x - zp| <= 255 and ls <= 23 (validated): the shifted values fit int32, as in the scalar kernel. */
    const int32x4_t a = mbqm_n(vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32(x1 + i, pr), zp1), ls), m1, l1, r1);
    const int32x4_t b = mbqm_n(vshlq_r_s32(vsubq_n_s32(vldrbq_z_s32(x2 + i, pr), zp2), ls), m2, l2, r2);
    const int32x4_t s = subtract ? vsubq_s32(a, b) : vaddq_s32(a, b); /* wraps, as hil_add_wrap */
    const int32x4_t r = vqaddq_n_s32(mbqm_n(s, mo, lo_, ro), zp);
    vstrbq_p_s32(y + i, vminq_s32(vmaxq_s32(r, lo), hi), pr);
  }
}
static __attribute__((noinline)) void add_op(const hil_add_params_t *p, const int8_t *x1, const int8_t *x2, int8_t *y,
                                             uint32_t n) {
  add_impl(p, x1, x2, y, n, 0);
}
static __attribute__((noinline)) void sub_op(const hil_add_params_t *p, const int8_t *x1, const int8_t *x2, int8_t *y,
                                             uint32_t n) {
  add_impl(p, x1, x2, y, n, 1);
}
void hil_add_mve(const hil_add_params_t *p, const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n, int subtract) {
  if (subtract) sub_op(p, x1, x2, y, n); else add_op(p, x1, x2, y, n);
}

void hil_mul_mve(int32_t zp1, int32_t zp2, int32_t out_zp, int32_t mo, int sho, int32_t act_min, int32_t act_max,
                 const int8_t *x1, const int8_t *x2, int8_t *y, uint32_t n) {
  const int left = sho > 0 ? sho : 0, right = sho > 0 ? 0 : sho;
  const int32x4_t lo = vdupq_n_s32(act_min), hi = vdupq_n_s32(act_max);
  for (uint32_t i = 0; i < n; i += 4u) {
    const mve_pred16_t pr = vctp32q(n - i);
    const int32x4_t prod = vmulq_s32(vsubq_n_s32(vldrbq_z_s32(x1 + i, pr), zp1), vsubq_n_s32(vldrbq_z_s32(x2 + i, pr), zp2));
    const int32x4_t r = vqaddq_n_s32(mbqm_n(prod, mo, left, right), out_zp);
    vstrbq_p_s32(y + i, vminq_s32(vmaxq_s32(r, lo), hi), pr);
  }
}

/* table[x + 128]: sixteen at a time, a byte gather whose offsets are x with its sign bit flipped. */
void hil_lut_mve(const int8_t *table, const int8_t *x, int8_t *y, uint32_t n) {
  const uint8_t *t = (const uint8_t *)table;
  const uint8x16_t flip = vdupq_n_u8(0x80);
  for (uint32_t i = 0; i < n; i += 16u) {
    const mve_pred16_t pr = vctp8q(n - i);
    const uint8x16_t off = veorq_u8(vldrbq_z_u8((const uint8_t *)x + i, pr), flip);
    vstrbq_p_u8((uint8_t *)y + i, vldrbq_gather_offset_z_u8(t, off, pr), pr);
  }
}


/* ---- the 16x8 FC (CMSIS-NN's arm_fully_connected_s16 layout: int16 x, int8 weights, int64 bias) ----
 * Two rows per pass share each load of x: VLDRB.S16 widens eight weights to int16 and VMLALDAVA sums
 * eight int16 products into an int64 accumulator, as the scalar kernel's int64 sum does (exact: every
 * partial sum is below 2^38). The tail is predicated (zeroed lanes add nothing). The 64-bit
 * requantisation is the scalar hil_fc_s16_requant, once per output: at 257 outputs it is not the cost. */
void hil_fully_connected_s16_mve(const hil_fc_s16_params_t *p) {
  const uint32_t in = p->in_features, out = p->out_features;
  const int16_t *x = p->x;
  uint32_t o = 0;
  for (; o + 2u <= out; o += 2u) {
    const int8_t *w0 = p->w + o * in, *w1 = w0 + in;
    int64_t a0 = 0, a1 = 0;
    uint32_t i = 0;
    for (; i + 8u <= in; i += 8u) {
      const int16x8_t xv = vldrhq_s16(x + i);
      a0 = vmlaldavaq_s16(a0, xv, vldrbq_s16(w0 + i));
      a1 = vmlaldavaq_s16(a1, xv, vldrbq_s16(w1 + i));
    }
    if (i < in) {
      const mve_pred16_t pr = vctp16q(in - i);
      const int16x8_t xv = vldrhq_z_s16(x + i, pr);
      a0 = vmlaldavaq_p_s16(a0, xv, vldrbq_z_s16(w0 + i, pr), pr);
      a1 = vmlaldavaq_p_s16(a1, xv, vldrbq_z_s16(w1 + i, pr), pr);
    }
    p->y[o] = hil_fc_s16_requant(p, o, a0);
    p->y[o + 1u] = hil_fc_s16_requant(p, o + 1u, a1);
  }
  if (o < out) {
    const int8_t *w0 = p->w + o * in;
    int64_t a0 = 0;
    for (uint32_t i = 0; i < in; i += 8u) {
      const mve_pred16_t pr = vctp16q(in - i);
      a0 = vmlaldavaq_p_s16(a0, vldrhq_z_s16(x + i, pr), vldrbq_z_s16(w0 + i, pr), pr);
    }
    p->y[o] = hil_fc_s16_requant(p, o, a0);
  }
}

/* ---- CSR4 ---- */

/* Inclusive prefix sum over the 16 byte lanes: whole-vector shifts (VSHLC) by 1, 2, 4 and 8 lanes.
 * Sixteen codes sum to at most 240, so no lane wraps. */
INLINE uint8x16_t scan_u8(uint8x16_t s) {
  uint32_t carry = 0;
  s = vaddq_u8(s, vshlcq_u8(s, &carry, 8));
  carry = 0;
  s = vaddq_u8(s, vshlcq_u8(s, &carry, 16));
  carry = 0;
  s = vaddq_u8(s, vshlcq_u8(s, &carry, 32));
  carry = 0;
  uint8x16_t t = vshlcq_u8(s, &carry, 32);
  carry = 0;
  t = vshlcq_u8(t, &carry, 32);
  return vaddq_u8(s, t);
}

/* Sixteen codes at a time, with no branch per code: the nibbles are narrowed into 16 byte lanes; each
 * lane's step (its code, or 15 for an escape) and weight flag are prefix-summed, which gives every
 * weight's column relative to the chunk's start (at most 240, so a byte offset) and its index among the
 * chunk's values; two 16-lane byte gathers fetch x and the values, predicated on the weight lanes, and one
 * VMLADAVA sums the products. Escape and tail lanes read nothing. */
void hil_fc_csr4_mve(const hil_fc_args_t *a, const hil_fc_csr4_t *w) {
  const uint8_t *c = w->codes;
  const int8_t *v = w->value;
  const uint8x16_t zero = vdupq_n_u8(0), one = vdupq_n_u8(1), fifteen = vdupq_n_u8(15);
  const uint16x8_t low = vdupq_n_u16(15);
  for (uint32_t o = 0; o < a->out_features; o++) {
    const uint32_t n = w->row_codes[o];
    /* xb = x + col + 1, col starting at -1: a weight lane at inclusive step sum P reads xb[P - 1]. */
    const int8_t *xb = a->x;
    int32_t acc = 0;
    for (uint32_t k = 0; k < n; k += 16) {
      const uint32_t m = n - k < 16u ? n - k : 16u;
      const uint16x8_t bytes = vldrbq_z_u16(c + k / 2u, vctp16q((m + 1u) / 2u));
      const uint8x16_t codes = vmovntq_u16(vmovnbq_u16(zero, vandq_u16(bytes, low)), vshrq_n_u16(bytes, 4));
      const mve_pred16_t live = vctp8q(m);
      const mve_pred16_t wt = vcmpneq_m_n_u8(codes, 0, live);
      const uint8x16_t pos = scan_u8(vpselq_u8(codes, vpselq_u8(fifteen, zero, live), wt));
      const uint8x16_t idx = scan_u8(vpselq_u8(one, zero, wt));
      const int8x16_t xs = vldrbq_gather_offset_z_s8(xb, vsubq_n_u8(pos, 1), wt);
      const int8x16_t vs = vldrbq_gather_offset_z_s8(v, vsubq_n_u8(idx, 1), wt);
      acc = vmladavaq_s8(acc, xs, vs);
      /* Lanes past m add nothing, so lane 15 holds the chunk's totals. */
      xb += vgetq_lane_u8(pos, 15);
      v += vgetq_lane_u8(idx, 15);
    }
    c += (n + 1u) / 2u;
    a->y[o] = hil_fc_requant(a, o, acc);
  }
}

#endif

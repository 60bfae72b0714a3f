/* Platform facts: OS, architecture, CPU model and features, cores, RAM,
 * and the resident-set peak of this process. */
#ifndef INGOT_BASE_PLATFORM_H
#define INGOT_BASE_PLATFORM_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ingot_cpu_features {
    bool avx, avx2, fma, f16c, avx512f, avx512bw, avx512vnni, avxvnni; /* x86 */
    bool avx512vl, avx512dq;                                            /* x86 */
    bool amx_tile, amx_int8, amx_bf16; /* x86: CPU and OS (XCR0) support */
    bool neon, dotprod, fp16, i8mm;                                     /* arm64 */
} ingot_cpu_features;

/* Detected once, then constant. */
const ingot_cpu_features *ingot_cpu(void);
/* Makes AMX tiles usable by every thread of this process: on Linux the
 * kernel's permission for the tile data state (arch_prctl
 * ARCH_REQ_XCOMP_PERM), asked once per process. False if the CPU or OS
 * lacks AMX or the permission was refused; then no tile may be used. */
bool ingot_amx_enable(void);
int ingot_cpu_count(void);          /* online cores */
uint64_t ingot_ram_total(void);     /* bytes */
uint64_t ingot_ram_available(void); /* bytes */
const char *ingot_os_name(void);    /* "linux", "macos", ... */
const char *ingot_arch_name(void);  /* "x86_64", "arm64", ... */
bool ingot_is_apple_silicon(void);
/* CPU model string (e.g. "AMD EPYC 7B13"), or "unknown". */
const char *ingot_cpu_model(void);
/* Peak resident set size of this process, bytes. */
uint64_t ingot_peak_rss(void);
/* Maps in the pages of [p, p + len) now, writable, in one system call
 * (Linux MADV_POPULATE_WRITE) instead of one page fault per 4 KiB page
 * on first write: under some hypervisors a fault costs ~10 us, so a
 * table of megabytes written once at load took tens of milliseconds in
 * faults alone. Only for memory about to be written anyway; small
 * ranges and other systems are left to fault as usual. Never fails. */
void ingot_prefault(void *p, size_t len);
/* Monotonic clock, milliseconds. */
double ingot_time_ms(void);
#endif

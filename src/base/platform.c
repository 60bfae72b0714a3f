/* Owns run-time detection of platform facts. CPU features come from cpuid on
 * x86 and from the auxiliary vector on Linux/arm64. */
#include "base/platform.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__linux__) && defined(__aarch64__)
#include <sys/auxv.h>
#endif
#if defined(__linux__) && defined(__x86_64__)
#include <sys/syscall.h>
#endif

static ingot_cpu_features cpu_features;
static char cpu_model_name[128] = "unknown";
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

static void detect_cpu(void) {
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (__get_cpuid(1, &a, &b, &c, &d)) {
        bool osxsave = (c >> 27) & 1;
        unsigned long long xcr0 = 0;
        if (osxsave) {
            unsigned lo, hi;
            __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
            xcr0 = ((unsigned long long)hi << 32) | lo;
        }
        bool ymm = (xcr0 & 6) == 6, zmm = (xcr0 & 0xe6) == 0xe6;
        cpu_features.avx = ymm && ((c >> 28) & 1);
        cpu_features.fma = ymm && ((c >> 12) & 1);
        cpu_features.f16c = ymm && ((c >> 29) & 1);
        if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
            cpu_features.avx2 = ymm && ((b >> 5) & 1);
            cpu_features.avx512f = zmm && ((b >> 16) & 1);
            cpu_features.avx512bw = zmm && ((b >> 30) & 1);
            cpu_features.avx512vl = zmm && ((b >> 31) & 1);
            cpu_features.avx512dq = zmm && ((b >> 17) & 1);
            cpu_features.avx512vnni = zmm && ((c >> 11) & 1);
            /* AMX: the OS must manage the tile config and data states
             * (XCR0 bits 17 and 18) */
            bool tiles = (xcr0 & 0x60000) == 0x60000;
            cpu_features.amx_bf16 = tiles && ((d >> 22) & 1);
            cpu_features.amx_tile = tiles && ((d >> 24) & 1);
            cpu_features.amx_int8 = tiles && ((d >> 25) & 1);
        }
        if (__get_cpuid_count(7, 1, &a, &b, &c, &d)) cpu_features.avxvnni = ymm && ((a >> 4) & 1);
    }
    unsigned brand[12];
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &brand[i * 4], &brand[i * 4 + 1], &brand[i * 4 + 2],
                        &brand[i * 4 + 3]);
        char s[49];
        memcpy(s, brand, 48);
        s[48] = 0;
        const char *p = s;
        while (*p == ' ') p++;
        for (size_t n = strlen(s); n && s[n - 1] == ' '; n--) s[n - 1] = 0;
        snprintf(cpu_model_name, sizeof cpu_model_name, "%s", p);
    }
#elif defined(__aarch64__)
    cpu_features.neon = true;
#if defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
    cpu_features.dotprod = (hw >> 20) & 1; /* HWCAP_ASIMDDP */
    cpu_features.fp16 = (hw >> 10) & 1;    /* HWCAP_ASIMDHP */
    cpu_features.i8mm = (hw2 >> 13) & 1;   /* HWCAP2_I8MM */
#elif defined(__APPLE__)
    cpu_features.dotprod = cpu_features.fp16 = true;
#endif
#endif
    /* Linux: the name the OS reports wins over CPUID's brand string (a
     * hypervisor may give the two differently; users, llama-bench and
     * /proc/cpuinfo all show the OS's) */
#if defined(__linux__)
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[256];
        while (fgets(line, sizeof line, f)) {
            char *colon = strchr(line, ':');
            if (colon && (!strncmp(line, "model name", 10) || !strncmp(line, "Model", 5))) {
                colon++;
                while (*colon == ' ') colon++;
                colon[strcspn(colon, "\n")] = 0;
                snprintf(cpu_model_name, sizeof cpu_model_name, "%s", colon);
                break;
            }
        }
        fclose(f);
    }
#endif
}

const ingot_cpu_features *ingot_cpu(void) {
    pthread_once(&cpu_once, detect_cpu);
    return &cpu_features;
}

static bool amx_ok;
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;

static void amx_request(void) {
#if defined(__linux__) && defined(__x86_64__)
    enum { ARCH_GET_XCOMP_PERM = 0x1022, ARCH_REQ_XCOMP_PERM = 0x1023, XFEATURE_XTILEDATA = 18 };
    const ingot_cpu_features *c = ingot_cpu();
    if (!c->amx_tile) return;
    if (syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) != 0) return;
    unsigned long perm = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) != 0) return;
    amx_ok = (perm >> XFEATURE_XTILEDATA) & 1;
#endif
}

bool ingot_amx_enable(void) {
    pthread_once(&amx_once, amx_request);
    return amx_ok;
}

const char *ingot_cpu_model(void) {
    pthread_once(&cpu_once, detect_cpu);
    return cpu_model_name;
}

int ingot_cpu_count(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

uint64_t ingot_ram_total(void) {
    long pages = sysconf(_SC_PHYS_PAGES), sz = sysconf(_SC_PAGESIZE);
    return pages > 0 && sz > 0 ? (uint64_t)pages * (uint64_t)sz : 0;
}

uint64_t ingot_ram_available(void) {
#if defined(__linux__)
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f)) {
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                fclose(f);
                return (uint64_t)kb * 1024;
            }
        }
        fclose(f);
    }
#endif
#ifdef _SC_AVPHYS_PAGES
    long pages = sysconf(_SC_AVPHYS_PAGES), sz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && sz > 0) return (uint64_t)pages * (uint64_t)sz;
#endif
    return 0;
}

const char *ingot_os_name(void) {
#if defined(__APPLE__)
    return "macos";
#elif defined(__linux__)
    return "linux";
#elif defined(_WIN32)
    return "windows";
#else
    return "unknown";
#endif
}

const char *ingot_arch_name(void) {
#if defined(__x86_64__)
    return "x86_64";
#elif defined(__aarch64__)
    return "arm64";
#elif defined(__i386__)
    return "x86";
#else
    return "unknown";
#endif
}

bool ingot_is_apple_silicon(void) {
#if defined(__APPLE__) && defined(__aarch64__)
    return true;
#else
    return false;
#endif
}

void ingot_prefault(void *p, size_t len) {
#if defined(__linux__)
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
    if (!p || len < ((size_t)1 << 20)) return;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + len) & ~(page - 1);
    /* EINVAL on kernels before 5.14: the pages then fault as they would */
    if (b > a) (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
#else
    (void)p;
    (void)len;
#endif
}

uint64_t ingot_peak_rss(void) {
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
#if defined(__APPLE__)
    return (uint64_t)ru.ru_maxrss; /* bytes on macOS */
#else
    return (uint64_t)ru.ru_maxrss * 1024; /* kilobytes on Linux */
#endif
}

double ingot_time_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

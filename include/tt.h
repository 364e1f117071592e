/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tt.h — name your heap allocations for ttbpf. Header-only, C11 and C++.
 *
 *     char *cfg = load_config(path);
 *     TT_TRACK_VAR(cfg);                        // "cfg", type "char *"
 *     TT_TRACK_VAR_T(sess, "struct session");   // explicit type name
 *     TT_TRACK_VAR_AS(buf, "network");          // explicit category
 *     TT_TRACK_VAR_T_AS(c, "struct cache", "cache");  // both
 *
 * Each marker is a USDT probe site (provider "tt", probe "track_var"): a
 * 5-byte nop in the code plus a .note.stapsdt entry, readable by standard
 * tooling (readelf -n, bpftool, bpftrace's usdt:). With no tracer attached it
 * costs that nop and the loads of its arguments; no call. Linux 6.18
 * turns a uprobe on a 5-byte nop into a call to a trampoline instead of a
 * trap, so a traced marker is also cheap.
 *
 * Probe arguments: 1 = the address the variable points to (a pointer's value,
 * an array's first element; in C++ a container's data() or a smart pointer's
 * get()), 2 = a pointer to a static struct tt_var_site describing the site;
 * in C++ also 3 = where a container (std::vector, std::string) keeps its
 * data pointer, or 0, so that ttbpf follows the container to each new
 * buffer it grows into. In C++ naming a type allocates nothing.
 *
 * tt_track_var(ptr, name, type_name, category) is the same marker as a real
 * function, for code that cannot use the macros (other languages via FFI).
 *
 * TRACE_TOOLS_DISABLED=1 in the app's environment makes ttbpf leave the
 * markers unprobed: they stay nops. It is read once, when ttbpf attaches.
 */
#ifndef TT_H
#define TT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Version 1 of the site layout; ttbpf reads it from the traced process. */
struct tt_var_site {
	const char *name;      /* the expression, e.g. "cfg" */
	const char *type_name; /* "char *", "struct session", "std::vector<int>" */
	const char *category;  /* explicit category, or NULL: derived from the type */
	const char *file;
	const char *function;
	int line;
	int version; /* 1 */
};

/* The function marker; weak, so every translation unit may define it. */
__attribute__((weak, noinline, used, visibility("default")))
void tt_track_var(const void *ptr, const char *name, const char *type_name, const char *category)
{
	/* an empty body that the compiler must keep: ttbpf probes its entry */
	__asm__ __volatile__("" : : "r"(ptr), "r"(name), "r"(type_name), "r"(category) : "memory");
}

#ifdef __cplusplus
}
#endif

#if defined(__x86_64__)
/*
 * The probe site. The note layout is the documented SystemTap SDT v3 one
 * (sourceware.org/systemtap/wiki/UserSpaceProbeImplementation): pc, base,
 * semaphore (0: none), then "provider\0name\0args\0".
 */
#define TT__USDT_ASM(args)                                                                  \
	"990:	.byte 0x0f, 0x1f, 0x44, 0x00, 0x00\n"                                      \
	".pushsection .note.stapsdt, \"?\", \"note\"\n"                                     \
	".balign 4\n"                                                                       \
	".4byte 992f-991f, 994f-993f, 3\n"                                                  \
	"991:	.asciz \"stapsdt\"\n"                                                       \
	"992:	.balign 4\n"                                                                \
	"993:	.8byte 990b\n"                                                              \
	".8byte _.stapsdt.base\n"                                                           \
	".8byte 0\n"                                                                        \
	".asciz \"tt\"\n"                                                                   \
	".asciz \"track_var\"\n"                                                            \
	".asciz \"" args "\"\n"                                                             \
	"994:	.balign 4\n"                                                                \
	".popsection\n"                                                                     \
	".ifndef _.stapsdt.base\n"                                                          \
	".pushsection .stapsdt.base, \"aG\", \"progbits\", .stapsdt.base, comdat\n"         \
	".weak _.stapsdt.base\n"                                                            \
	".hidden _.stapsdt.base\n"                                                          \
	"_.stapsdt.base: .space 1\n"                                                        \
	".size _.stapsdt.base, 1\n"                                                         \
	".popsection\n"                                                                     \
	".endif\n"
#define TT__USDT2(a1, a2)                                    \
	__asm__ __volatile__(TT__USDT_ASM("8@%0 8@%1")       \
			     :                               \
			     : "r"((unsigned long)(a1)), "r"((unsigned long)(a2)))
/* a third argument: where a container keeps its data pointer (0: none) */
#define TT__USDT3(a1, a2, a3)                                                       \
	__asm__ __volatile__(TT__USDT_ASM("8@%0 8@%1 8@%2")                         \
			     :                                                      \
			     : "r"((unsigned long)(a1)), "r"((unsigned long)(a2)), \
			       "r"((unsigned long)(a3)))
#else
/* other architectures: the function marker */
#define TT__USDT2(a1, a2)                                                          \
	tt_track_var((const void *)(a1), ((const struct tt_var_site *)(a2))->name, \
		     ((const struct tt_var_site *)(a2))->type_name,               \
		     ((const struct tt_var_site *)(a2))->category)
#define TT__USDT3(a1, a2, a3) TT__USDT2(a1, a2)
#endif

#ifndef __cplusplus
/* C: the type name of common pointer types; arrays decay to pointers. */
#define TT_TYPE_NAME(x)                                              \
	_Generic((x),                                                \
		char *: "char *", const char *: "const char *",          \
		signed char *: "signed char *",                         \
		unsigned char *: "unsigned char *",                     \
		const unsigned char *: "const unsigned char *",         \
		short *: "short *", unsigned short *: "unsigned short *", \
		int *: "int *", const int *: "const int *",              \
		unsigned int *: "unsigned int *",                       \
		long *: "long *", unsigned long *: "unsigned long *",     \
		long long *: "long long *",                             \
		unsigned long long *: "unsigned long long *",           \
		float *: "float *", double *: "double *",                 \
		const double *: "const double *",                       \
		long double *: "long double *",                         \
		void *: "void *", const void *: "const void *",           \
		char **: "char **", void **: "void **",                   \
		int **: "int **", double **: "double **",                 \
		default: "unknown")

#define TT__ADDR(x) ((const void *)(x))

#define TT__TRACK(var, type, cat)                                                       \
	do {                                                                            \
		static const struct tt_var_site tt__site = { #var, type, cat, __FILE__, \
							     __func__, __LINE__, 1 };  \
		TT__USDT2(TT__ADDR(var), &tt__site);                                   \
	} while (0)

#else /* __cplusplus */

#include <cstddef>
#include <cstring>
#include <memory>
#include <type_traits>

namespace tt {
namespace detail {

/*
 * A type's name, kept in the function's own static storage: naming a type
 * must not allocate, or the profile would show tt.h's allocations among the
 * program's (and a first marker could fail under memory pressure).
 */
struct type_name_buf {
	char s[256];
};

/* The name after "T = " in pretty (GCC: "[with T = int*]" or "[with T = X;
 * ...]"; clang: "[T = int *]"), std::string's long spellings shortened. */
inline type_name_buf parse_type_name(const char *pretty)
{
	static const char *const longs[][2] = {
		{ "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >",
		  "std::string" },
		{ "std::basic_string<char, std::char_traits<char>, std::allocator<char> >",
		  "std::string" },
		{ "std::__cxx11::basic_string<char>", "std::string" },
		{ "std::basic_string<char>", "std::string" },
	};
	type_name_buf out = {};
	const char *b = std::strstr(pretty, "T = "), *e;
	std::size_t n, i, k;

	if (!b) {
		std::strcpy(out.s, "unknown");
		return out;
	}
	b += 4;
	/* an array type holds its own ']' ("char [32]"): cut at the last one */
	e = std::strchr(b, ';');
	if (!e)
		e = std::strrchr(b, ']');
	n = e && e > b ? (std::size_t)(e - b) : std::strlen(b);
	/* copy, replacing each long spelling on the way */
	for (i = 0, k = 0; i < n && k + 1 < sizeof(out.s);) {
		std::size_t j, l = 0;

		for (j = 0; j < sizeof(longs) / sizeof(longs[0]); j++) {
			l = std::strlen(longs[j][0]);
			if (l <= n - i && !std::strncmp(b + i, longs[j][0], l))
				break;
		}
		if (j < sizeof(longs) / sizeof(longs[0])) {
			std::size_t r = std::strlen(longs[j][1]);

			if (k + r + 1 > sizeof(out.s))
				break;
			std::memcpy(out.s + k, longs[j][1], r);
			k += r;
			i += l;
		} else {
			out.s[k++] = b[i++];
		}
	}
	out.s[k] = '\0';
	return out;
}

/* The real type name, from the compiler's description of this function:
 * parsed once into a static buffer (a guarded static: no heap). */
template <typename T> inline const char *type_name()
{
	static const type_name_buf name = parse_type_name(__PRETTY_FUNCTION__);
	return name.s;
}

/* What a variable "points to", most specific rule first. */
template <int N> struct prio : prio<N - 1> {};
template <> struct prio<0> {};

template <typename T> inline const void *addr_(T *p, prio<3>) { return (const void *)p; }
template <typename T, std::size_t N> inline const void *addr_(T (&a)[N], prio<4>) { return &a[0]; }
template <typename T, typename D>
inline const void *addr_(const std::unique_ptr<T, D> &p, prio<3>) { return p.get(); }
template <typename T> inline const void *addr_(const std::shared_ptr<T> &p, prio<3>) { return p.get(); }
/* std::vector, std::string, std::array: their elements */
template <typename C>
inline auto addr_(const C &c, prio<2>) -> decltype((const void *)c.data()) { return c.data(); }
/* anything else: the object itself (named if it lives inside a heap block) */
template <typename T> inline const void *addr_(const T &o, prio<1>) { return &o; }

template <typename T> inline const void *addr(T &&x) { return addr_(x, prio<4>{}); }

/*
 * A container that holds its data pointer (std::vector, std::string, ...):
 * the address of that pointer inside the object, found as the word that
 * equals data(), so that ttbpf can follow the container when it moves its
 * elements to a new buffer. 0 when there is none (std::array holds its
 * elements; anything without data()). An empty container's data() is NULL:
 * its first null word is taken, which is the begin pointer in libstdc++ and
 * libc++ alike.
 */
template <typename C>
inline auto slot_(const C &c, prio<2>) -> decltype((const void *)c.data())
{
	const void *d = c.data();
	const unsigned char *o = reinterpret_cast<const unsigned char *>(&c);
	std::size_t i;

	for (i = 0; i + sizeof(d) <= sizeof(C); i += sizeof(d)) {
		const void *w;

		std::memcpy(&w, o + i, sizeof(w));
		if (w == d)
			return o + i;
	}
	return nullptr;
}
template <typename T> inline const void *slot_(const T &, prio<1>) { return nullptr; }

template <typename T> inline const void *slot(T &&x) { return slot_(x, prio<2>{}); }

} /* namespace detail */
} /* namespace tt */

#define TT_TYPE_NAME(x) (::tt::detail::type_name<typename std::remove_reference<decltype(x)>::type>())

#define TT__ADDR(x) (::tt::detail::addr(x))

/* the lambda gives every site its own static; __func__ is taken outside it */
#define TT__TRACK(var, type, cat)                                                        \
	do {                                                                             \
		static const struct tt_var_site *tt__site = [](const char *t, const char *f) { \
			static const struct tt_var_site s = { #var, t, cat, __FILE__, f,     \
							      __LINE__, 1 };              \
			return &s;                                                       \
		}(type, __func__);                                                       \
		TT__USDT3(TT__ADDR(var), tt__site, ::tt::detail::slot(var));             \
	} while (0)

#endif /* __cplusplus */

#define TT_TRACK_VAR(var) TT__TRACK(var, TT_TYPE_NAME(var), 0)
#define TT_TRACK_VAR_T(var, type_name) TT__TRACK(var, type_name, 0)
#define TT_TRACK_VAR_AS(var, category) TT__TRACK(var, TT_TYPE_NAME(var), category)
#define TT_TRACK_VAR_T_AS(var, type_name, category) TT__TRACK(var, type_name, category)

#endif /* TT_H */

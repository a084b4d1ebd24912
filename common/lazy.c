/* lazy.c - open a library on first use, close it when idle (see lazy.h). */
#include "config.h"

#include "common/lazy.h"
#include "common/log.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lazy_load(struct lazy_lib *l)
{
	const char *name = l->names;
	void *h;

	if (l->h)
		return;
	h = dlopen(l->soname, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		/* to stderr too unless the daemon logs to syslog */
		log_err("lazy", "cannot load %s (%s): reinstall the package %s", l->soname, dlerror(), l->package);
		exit(1);
	}
	for (unsigned i = 0; i < l->nsyms; i++, name += strlen(name) + 1) {
		void *p = dlsym(h, name);

		if (!p) {
			log_err("lazy", "%s has no %s: update the package %s", l->soname, name, l->package);
			exit(1);
		}
		memcpy((char *)l->table + i * sizeof(p), &p, sizeof(p));
	}
	l->h = h;
	l->loads++;
	log_debug("lazy", "%s loaded", l->soname);
}

/* What a slot holds while its library is closed: a call there is a bug (a
 * use without lazy_need at the module's entry point); say so and stop. */
static void lazy_trap(void)
{
	log_err("lazy", "internal error: a library function called before its library was loaded");
	abort();
}

void lazy_traps(struct lazy_lib *l)
{
	void (*t)(void) = lazy_trap;

	for (unsigned i = 0; i < l->nsyms; i++)
		memcpy((char *)l->table + i * sizeof(t), &t, sizeof(t));
}

bool lazy_loaded(const struct lazy_lib *l)
{
	return l->h != NULL;
}

// ncursesw. SwiftPM drops pkg-config's -D flags, so the wide-character API is switched on here.
#ifndef KR_CNCURSES_SHIM_H
#define KR_CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <ncursesw/curses.h>

static inline const char *kr_curses_version(void) { return curses_version(); }
#endif

// ncursesw. SwiftPM drops pkg-config's -D flags, so the wide-character API is switched on here.
#ifndef KR_CNCURSES_SHIM_H
#define KR_CNCURSES_SHIM_H
#define NCURSES_WIDECHAR 1
#ifndef _XOPEN_SOURCE_EXTENDED
#define _XOPEN_SOURCE_EXTENDED 1
#endif
#include <stdio.h>
#include <wchar.h>
#include <ncursesw/curses.h>

static inline const char *kr_curses_version(void) { return curses_version(); }

// newterm on the process's stdout and stdin: NULL (not exit()) when the terminal type is unknown.
static inline SCREEN *kr_newterm(const char *type) { return newterm(type, stdout, stdin); }

// stdscr, LINES and COLS are mutable C globals: read through functions (Swift 6 strict concurrency).
static inline WINDOW *kr_stdscr(void) { return stdscr; }
static inline int kr_lines(void) { return LINES; }
static inline int kr_cols(void) { return COLS; }

// Colours on the terminal's own background (-1): pairs 1 red, 2 green, 3 yellow, 4 cyan.
static inline int kr_start_colors(void) {
    if (!has_colors()) return 0;
    start_color();
    use_default_colors();
    init_pair(1, COLOR_RED, -1);
    init_pair(2, COLOR_GREEN, -1);
    init_pair(3, COLOR_YELLOW, -1);
    init_pair(4, COLOR_CYAN, -1);
    return 1;
}

// Our attribute bits (TopAttributes: 1 bold, 2 dim, 4 reverse, 8 underline) and a colour pair.
static inline int kr_set_attributes(unsigned int flags, short pair) {
    attr_t a = A_NORMAL;
    if (flags & 1) a |= A_BOLD;
    if (flags & 2) a |= A_DIM;
    if (flags & 4) a |= A_REVERSE;
    if (flags & 8) a |= A_UNDERLINE;
    return attr_set(a, pair, NULL);
}

static inline int kr_mvaddnwstr(int y, int x, const wchar_t *text, int n) { return mvaddnwstr(y, x, text, n); }
static inline int kr_get_wch(wint_t *c) { return get_wch(c); }
static inline int kr_key_code_yes(void) { return KEY_CODE_YES; }
static inline int kr_erase(void) { return erase(); }
static inline int kr_wnoutrefresh(void) { return wnoutrefresh(stdscr); }
static inline int kr_keypad(void) { return keypad(stdscr, TRUE); }
static inline void kr_timeout(int ms) { timeout(ms); }
#endif

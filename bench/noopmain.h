/*
 * noopmain.h - the main() the no-op filters share
 *
 * noop_main() reads "-p SOCKET" and "-s KB" (the default thread stack
 * size, as saslguard sets it), plus the filter's own option letters
 * (handed to opt), registers desc, opens the socket (a unix: socket is
 * made mode 0666) and runs smfi_main().
 *
 * Thread safety: call once, from main(), before any thread exists.
 */
#ifndef SASLGUARD_NOOPMAIN_H
#define SASLGUARD_NOOPMAIN_H

#include "mfapi.h"

/* the exit status; extra: getopt letters of the filter's own flags */
int noop_main(int argc, char **argv, struct smfiDesc *desc, const char *extra,
    void (*opt)(int ch));

#endif

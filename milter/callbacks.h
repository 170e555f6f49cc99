/*
 * callbacks.h - the libmilter callback table
 *
 * The callbacks translate: facts from libmilter in, a policy decision
 * (accounts_eom, policy_mail), SMFIS_* codes and smfi_* calls out.  They
 * hold no policy logic of their own.
 */
#ifndef SASLGUARD_CALLBACKS_H
#define SASLGUARD_CALLBACKS_H

#include <libmilter/mfapi.h>

/* callbacks_filter - the filter description for smfi_register() */
struct smfiDesc *callbacks_filter(void);

#endif

/*
 * ctlout.h - saslguardctl's output: aligned tables, JSON, Prometheus text
 *
 * Reply rows (ctlproto key=value records) are collected into a table and
 * printed either as a human table with aligned columns or as JSON.  A
 * value becomes a JSON number when it is a plain decimal integer and its
 * key is not one of the names that are always text (users, senders, queue
 * IDs: "0123" must stay a string).  Every value printed for a human is
 * made safe for the terminal first: control bytes appear as \xNN.
 *
 * Thread safety: none needed (single-threaded CLI).
 */
#ifndef SASLGUARD_CTLOUT_H
#define SASLGUARD_CTLOUT_H

#include <stdio.h>

#include "ctlproto.h"

struct table;

/* table_create - an empty table; NULL on ENOMEM */
struct table *table_create(void);

/* table_destroy - accepts NULL */
void	table_destroy(struct table *t);

/* table_add - copy the pairs of one reply line as a row; -1 on ENOMEM */
int	table_add(struct table *t, const struct ctl_reply *r);

/* table_rows - rows held */
size_t	table_rows(const struct table *t);

/*
 * table_print - aligned columns; cols names the keys to show in order
 * (NULL: every key of the first row); a header line, bold when color
 */
void	table_print(FILE *f, const struct table *t, const char *const *cols,
	    int color);

/* table_print_type - table_print of the rows whose "type" is type */
void	table_print_type(FILE *f, const struct table *t, const char *type,
	    const char *const *cols, int color);

/* table_get - the value of key in the first row of type (NULL: any), or NULL */
const char *table_get(const struct table *t, const char *type,
	    const char *key);

/* table_print_json - the rows as a JSON array of objects */
void	table_print_json(FILE *f, const struct table *t);

/* table_print_json_filtered - rows whose key "type" equals type */
void	table_print_json_type(FILE *f, const struct table *t,
	    const char *type);

/* table_print_json_object - the first row of type as an object ({} if none) */
void	table_print_json_object(FILE *f, const struct table *t,
	    const char *type);

/* reply_print_json - one reply's pairs as a JSON object */
void	reply_print_json(FILE *f, const struct ctl_reply *r);

/* reply_print_json_open - reply_print_json without the closing brace */
void	reply_print_json_open(FILE *f, const struct ctl_reply *r);

/* reply_print_pairs - one reply's pairs as "key: value" lines */
void	reply_print_pairs(FILE *f, const struct ctl_reply *r, int indent);

/* reply_print_prometheus - numeric pairs as Prometheus text metrics */
void	reply_print_prometheus(FILE *f, const struct ctl_reply *r,
	    const char *prefix);

/* safe_print - s for a terminal: control bytes and DEL as \xNN */
void	safe_print(FILE *f, const char *s);

/* json_number_p - 1 when value under key prints as a JSON number */
int	json_number_p(const char *key, const char *value);

#endif

/* rdconf.c — ntm-reader configuration (see rdconf.h). */
#include "rdconf.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"

#define LINE_MAX_LEN     4096u
#define PORT_MAX         65535u
#define PERCENT_MAX      100u
#define REPS_MAX         1000u
#define TIMEOUT_MS_MAX   600000u
#define RETRIES_MAX      20u
#define DEFAULT_REPS     10u
#define DEFAULT_TIMEOUT_MS 1000u
#define DEFAULT_RETRIES  2u
#define PASS_MIN         8u      /* USM: passphrases shorter are refused */

static void meter_init(struct rdconf_meter *m)
{
	memset(m, 0, sizeof *m);
	m->high_water = -1;
}

static void meter_free(struct rdconf_meter *m)
{
	free(m->name);
	free(m->address);
	free(m->community);
	free(m->write_community);
	free(m->user);
	free(m->auth_pass);
	free(m->priv_pass);
	free(m->rules);
	free(m->standby);
	free(m->output);
	meter_init(m);
}

void rdconf_init(struct rdconf *c)
{
	memset(c, 0, sizeof *c);
	meter_init(&c->defaults);
	c->bulk_reps = DEFAULT_REPS;
	c->timeout_ms = DEFAULT_TIMEOUT_MS;
	c->retries = DEFAULT_RETRIES;
}

void rdconf_free(struct rdconf *c)
{
	meter_free(&c->defaults);
	for (size_t i = 0; i < c->n_meters; i++)
		meter_free(&c->meters[i]);
	free(c->meters);
	free(c->log);
	free(c->owner);
	memset(c, 0, sizeof *c);
}

/* Replace *dst with a copy of s[0..len). */
static int set_str(char **dst, const char *s, size_t len)
{
	char *p = strndup(s, len);
	if (!p)
		return -1;
	free(*dst);
	*dst = p;
	return 0;
}

/* An unsigned decimal in [lo, hi]; 0 or -1. */
static int parse_uint(const char *s, size_t len, unsigned lo, unsigned hi,
		      unsigned *out)
{
	if (!len || len > 10)
		return -1;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v < lo || v > hi)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static bool word_is(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && strncasecmp(s, w, len) == 0;
}

/* A meter name becomes a directory: keep it to a safe alphabet. */
static bool name_ok(const char *s, size_t len)
{
	if (!len || len > RDCONF_NAME_MAX || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]))
			return false;
	return true;
}

static struct rdconf_meter *add_meter(struct rdconf *c)
{
	struct rdconf_meter *m = realloc(c->meters, (c->n_meters + 1) * sizeof *m);
	if (!m)
		return NULL;
	c->meters = m;
	meter_init(&m[c->n_meters]);
	return &m[c->n_meters++];
}

enum key_scope { K_GLOBAL, K_METER };

/* Keys a meter block (or the defaults) may hold. */
static int meter_key(struct rdconf_meter *m, const char *k, size_t kl,
		     const char *v, size_t vl, const char **why)
{
	unsigned u;
	char **str = NULL;
	if (word_is(k, kl, "address"))
		str = &m->address;
	else if (word_is(k, kl, "community"))
		str = &m->community;
	else if (word_is(k, kl, "write-community"))
		str = &m->write_community;
	else if (word_is(k, kl, "user"))
		str = &m->user;
	else if (word_is(k, kl, "auth-password"))
		str = &m->auth_pass;
	else if (word_is(k, kl, "priv-password"))
		str = &m->priv_pass;
	else if (word_is(k, kl, "rules"))
		str = &m->rules;
	else if (word_is(k, kl, "standby"))
		str = &m->standby;
	else if (word_is(k, kl, "output"))
		str = &m->output;
	if (str) {
		if ((str == &m->auth_pass || str == &m->priv_pass) && vl < PASS_MIN) {
			*why = "an SNMPv3 password needs at least 8 characters";
			return -1;
		}
		if (set_str(str, v, vl)) {
			*why = "out of memory";
			return -1;
		}
		return 0;
	}
	if (word_is(k, kl, "port")) {
		if (parse_uint(v, vl, 1, PORT_MAX, &u)) {
			*why = "port must be a number from 1 to 65535";
			return -1;
		}
		m->port = u;
	} else if (word_is(k, kl, "interval")) {
		if (parse_uint(v, vl, 1, RDCONF_INTERVAL_MAX, &u) ||
		    RDCONF_INTERVAL_MAX % u) {
			*why = "interval must be a whole number of seconds that divides a day (1..86400)";
			return -1;
		}
		m->interval = u;
	} else if (word_is(k, kl, "high-water")) {
		if (parse_uint(v, vl, 0, PERCENT_MAX, &u)) {
			*why = "high-water must be a percentage from 0 to 100";
			return -1;
		}
		m->high_water = (int)u;
	} else if (word_is(k, kl, "auth-protocol")) {
		if (word_is(v, vl, "SHA") || word_is(v, vl, "SHA1"))
			m->auth = RDCONF_AUTH_SHA;
		else if (word_is(v, vl, "SHA-256") || word_is(v, vl, "SHA256"))
			m->auth = RDCONF_AUTH_SHA256;
		else if (word_is(v, vl, "MD5"))
			m->auth = RDCONF_AUTH_MD5;
		else {
			*why = "auth-protocol must be SHA, SHA-256 or MD5";
			return -1;
		}
	} else if (word_is(k, kl, "priv-protocol")) {
		if (word_is(v, vl, "AES") || word_is(v, vl, "AES128"))
			m->priv = RDCONF_PRIV_AES;
		else if (word_is(v, vl, "DES"))
			m->priv = RDCONF_PRIV_DES;
		else {
			*why = "priv-protocol must be AES or DES";
			return -1;
		}
	} else {
		return 1;   /* not a meter key */
	}
	return 0;
}

static int global_key(struct rdconf *c, const char *k, size_t kl,
		      const char *v, size_t vl, const char **why)
{
	unsigned u;
	if (word_is(k, kl, "log") || word_is(k, kl, "owner")) {
		if (word_is(k, kl, "owner") && vl > 127) {
			*why = "owner is at most 127 characters (UTF8OwnerString)";
			return -1;
		}
		if (set_str(word_is(k, kl, "log") ? &c->log : &c->owner, v, vl)) {
			*why = "out of memory";
			return -1;
		}
	} else if (word_is(k, kl, "max-repetitions")) {
		if (parse_uint(v, vl, 1, REPS_MAX, &u)) {
			*why = "max-repetitions must be a number from 1 to 1000";
			return -1;
		}
		c->bulk_reps = u;
	} else if (word_is(k, kl, "timeout-ms")) {
		if (parse_uint(v, vl, 10, TIMEOUT_MS_MAX, &u)) {
			*why = "timeout-ms must be a number from 10 to 600000";
			return -1;
		}
		c->timeout_ms = u;
	} else if (word_is(k, kl, "retries")) {
		if (parse_uint(v, vl, 0, RETRIES_MAX, &u)) {
			*why = "retries must be a number from 0 to 20";
			return -1;
		}
		c->retries = u;
	} else {
		return 1;
	}
	return 0;
}

static void parse_line(struct rdconf *c, struct rdconf_meter **cur,
		       const char *s, size_t len, unsigned line, struct diag *d)
{
	/* strip the comment and surrounding blanks */
	const char *hash = memchr(s, '#', len);
	if (hash)
		len = (size_t)(hash - s);
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (!len)
		return;
	size_t kl = 0;
	while (kl < len && !isspace((unsigned char)s[kl]))
		kl++;
	const char *v = s + kl;
	size_t vl = len - kl;
	while (vl && isspace((unsigned char)*v)) {
		v++;
		vl--;
	}
	if (!vl) {
		diag_error(d, line, 0, "'%.*s' needs a value", (int)kl, s);
		return;
	}
	if (word_is(s, kl, "meter")) {
		if (!name_ok(v, vl)) {
			diag_error(d, line, 0, "meter name '%.*s': use 1..%u letters, digits, '.', '_' or '-', not starting with '.'",
				   (int)vl, v, RDCONF_NAME_MAX);
			return;
		}
		for (size_t i = 0; i < c->n_meters; i++)
			if (word_is(v, vl, c->meters[i].name)) {
				diag_error(d, line, 0, "meter '%.*s' is already defined at line %u",
					   (int)vl, v, c->meters[i].line);
				return;
			}
		struct rdconf_meter *m = add_meter(c);
		if (!m || set_str(&m->name, v, vl)) {
			diag_error(d, line, 0, "out of memory");
			return;
		}
		m->line = line;
		*cur = m;
		return;
	}
	const char *why = NULL;
	int rc = meter_key(*cur ? *cur : &c->defaults, s, kl, v, vl, &why);
	if (rc == 1) {
		if (*cur && global_key(c, s, kl, v, vl, &why) != 1) {
			diag_error(d, line, 0, "'%.*s' is a global setting: put it before the first 'meter'",
				   (int)kl, s);
			return;
		}
		if (!*cur)
			rc = global_key(c, s, kl, v, vl, &why);
	}
	if (rc == 1)
		diag_error(d, line, 0, "unknown keyword '%.*s'", (int)kl, s);
	else if (rc < 0)
		diag_error(d, line, 0, "%s", why);
}

int rdconf_parse(const char *text, size_t len, struct rdconf *c, struct diag *d)
{
	unsigned before = d->errors;
	struct rdconf_meter *cur = NULL;
	unsigned line = 0;
	while (len) {
		const char *nl = memchr(text, '\n', len);
		size_t ll = nl ? (size_t)(nl - text) : len;
		line++;
		if (ll > LINE_MAX_LEN)
			diag_error(d, line, 0, "line longer than %u bytes", LINE_MAX_LEN);
		else if (memchr(text, '\0', ll))
			diag_error(d, line, 0, "NUL byte in line");
		else
			parse_line(c, &cur, text, ll, line, d);
		/* a meter block's own pointer moves if meters[] grows */
		if (cur)
			cur = &c->meters[c->n_meters - 1];
		if (!nl)
			break;
		text += ll + 1;
		len -= ll + 1;
	}
	return d->errors > before ? -1 : 0;
}

int rdconf_parse_file(const char *path, struct rdconf *c, struct diag *d)
{
	char *buf;
	size_t len;
	switch (fileio_read_all(path, 0, &buf, &len)) {
	case FILEIO_OK:
		break;
	case FILEIO_OPEN:
		diag_error(d, 0, 0, "cannot open: %s", strerror(errno));
		return -1;
	case FILEIO_READ:
		diag_error(d, 0, 0, "cannot read: %s", strerror(errno));
		return -1;
	default:
		diag_error(d, 0, 0, "cannot read: out of memory");
		return -1;
	}
	int rc = rdconf_parse(buf, len, c, d);
	free(buf);
	return rc;
}

int rdconf_add_meter_spec(struct rdconf *c, const char *spec,
			  const char *rules, struct diag *d)
{
	const char *host = spec, *port = NULL;
	size_t hl = strlen(spec);
	if (spec[0] == '[') {   /* [IPv6]:PORT */
		const char *close = strchr(spec, ']');
		if (!close || (close[1] && close[1] != ':')) {
			diag_error(d, 0, 0, "meter '%s': want [IPv6-ADDRESS]:PORT", spec);
			return -1;
		}
		host = spec + 1;
		hl = (size_t)(close - host);
		port = close[1] ? close + 2 : NULL;
	} else {
		const char *colon = strchr(spec, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;   /* a bare IPv6 address */
		if (colon) {
			hl = (size_t)(colon - spec);
			port = colon + 1;
		}
	}
	unsigned p = 0;
	if (!hl || (port && parse_uint(port, strlen(port), 1, PORT_MAX, &p))) {
		diag_error(d, 0, 0, "meter '%s': want HOST[:PORT] with a port from 1 to 65535", spec);
		return -1;
	}
	struct rdconf_meter *m = add_meter(c);
	if (!m || set_str(&m->address, host, hl) || set_str(&m->name, spec, strlen(spec)) ||
	    (rules && set_str(&m->rules, rules, strlen(rules)))) {
		diag_error(d, 0, 0, "out of memory");
		return -1;
	}
	m->port = p;
	for (char *s = m->name; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("._-", *s))
			*s = '_';
	return 0;
}

static int inherit(char **dst, const char *def)
{
	if (*dst || !def)
		return 0;
	*dst = strdup(def);
	return *dst ? 0 : -1;
}

int rdconf_finish(struct rdconf *c, struct diag *d)
{
	unsigned before = d->errors;
	const struct rdconf_meter *def = &c->defaults;
	if (!c->owner && !(c->owner = strdup(RDCONF_DEFAULT_OWNER)))
		goto oom;
	if (!c->n_meters)
		diag_error(d, 0, 0, "no meter to read (add a 'meter NAME' block)");
	for (size_t i = 0; i < c->n_meters; i++) {
		struct rdconf_meter *m = &c->meters[i];
		if (inherit(&m->address, def->address) ||
		    inherit(&m->community, def->community) ||
		    inherit(&m->write_community, def->write_community) ||
		    inherit(&m->user, def->user) ||
		    inherit(&m->auth_pass, def->auth_pass) ||
		    inherit(&m->priv_pass, def->priv_pass) ||
		    inherit(&m->rules, def->rules) ||
		    inherit(&m->standby, def->standby) ||
		    inherit(&m->output, def->output) ||
		    inherit(&m->community, RDCONF_DEFAULT_COMMUNITY))
			goto oom;
		if (!m->port)
			m->port = def->port ? def->port : RDCONF_DEFAULT_PORT;
		if (!m->interval)
			m->interval = def->interval ? def->interval : RDCONF_DEFAULT_INTERVAL;
		if (m->high_water < 0)
			m->high_water = def->high_water >= 0 ? def->high_water
							     : (int)RDCONF_DEFAULT_HIGH_WATER;
		if (m->auth == RDCONF_AUTH_NONE)
			m->auth = def->auth;
		if (m->priv == RDCONF_PRIV_NONE)
			m->priv = def->priv;
		if (!m->address)
			diag_error(d, m->line, 0, "meter '%s' has no address", m->name);
		if (!m->rules)
			diag_error(d, m->line, 0, "meter '%s' has no rules file", m->name);
		if (!m->output)
			diag_error(d, m->line, 0, "meter '%s' has no output directory", m->name);
		if (m->user) {
			if (m->priv && !m->auth)
				diag_error(d, m->line, 0, "meter '%s': privacy needs authentication (auth-protocol)", m->name);
			if (m->auth && !m->auth_pass)
				diag_error(d, m->line, 0, "meter '%s': auth-protocol needs auth-password", m->name);
			if (m->priv && !m->priv_pass)
				diag_error(d, m->line, 0, "meter '%s': priv-protocol needs priv-password", m->name);
		} else if (m->auth || m->priv) {
			diag_error(d, m->line, 0, "meter '%s': auth/priv settings need an SNMPv3 user", m->name);
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->meters[j].name, m->name))
				diag_error(d, m->line, 0, "meter name '%s' is used twice", m->name);
	}
	return d->errors > before ? -1 : 0;
oom:
	diag_error(d, 0, 0, "out of memory");
	return -1;
}

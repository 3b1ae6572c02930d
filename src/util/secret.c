#include "util/secret.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int secret_from_file(const char *path, const char *what, char **out, struct dam_err *err)
{
	char buf[SECRET_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return dam_err_errno(err, DAM_EINVAL, errno, "%s: cannot open secret file %s", what, path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		rc = dam_err_set(err, DAM_EINVAL, what, "%s: secret file %s is not a regular file", what, path);
		goto out;
	}
	/* Refused rather than warned about: a secret others can read is no
	 * longer one, and saying so at start-up is when it is cheapest to fix. */
	if (st.st_mode & 077) {
		rc = dam_err_set(err, DAM_EINVAL, what,
				 "%s: secret file %s is readable or writable by group or others "
				 "(mode %04o); make it private: chmod 600 %s",
				 what, path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if ((n = read(fd, buf, sizeof buf - 1)) < 0) {
		rc = dam_err_errno(err, DAM_EIO, errno, "%s: cannot read secret file %s", what, path);
		goto out;
	}
	if ((size_t)n > SECRET_MAX) {
		rc = dam_err_set(err, DAM_EINVAL, what, "%s: secret file %s is too long", what, path);
		goto out;
	}
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	if (!(*out = strdup(buf)))
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
out:
	sodium_memzero(buf, sizeof buf);
	close(fd);
	return rc;
}

int secret_from_env(const char *name, const char *what, char **out, struct dam_err *err)
{
	const char *v = getenv(name);

	*out = NULL;
	if (!v || !*v)
		return dam_err_set(err, DAM_EINVAL, what, "%s: environment variable %s (the secret) is not set",
				   what, name);
	if (strlen(v) > SECRET_MAX)
		return dam_err_set(err, DAM_EINVAL, what, "%s: environment variable %s is too long", what, name);
	if (!(*out = strdup(v)))
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	return 0;
}

void secret_free(char *s)
{
	if (!s)
		return;
	sodium_memzero(s, strlen(s));
	free(s);
}

/*
 * Linked with -Wl,--wrap=BIO_set_callback_ex (see meson.build next to this).
 *
 * mediasoup's DTLS BIO callback returns 1 for every BIO_CB_RETURN call except
 * a plain BIO_CB_RETURN, so BIO_ctrl(BIO_CTRL_GET_KTLS_SEND) on its memory BIO
 * reports "kTLS enabled"; Debian's OpenSSL (built with kTLS) then treats the
 * memory BIO as a kernel TLS socket and crashes. We keep mediasoup's callback
 * for its side effects but return the operation's real result on post-calls.
 */
#include <openssl/bio.h>
#include <openssl/crypto.h>

void __real_BIO_set_callback_ex(BIO* b, BIO_callback_fn_ex callback);
void __wrap_BIO_set_callback_ex(BIO* b, BIO_callback_fn_ex callback);

static int tutti_bio_cb_index = -1;

static long tutti_bio_trampoline(
  BIO* b, int oper, const char* argp, size_t len, int argi, long argl, int ret, size_t* processed)
{
	BIO_callback_fn_ex inner = (BIO_callback_fn_ex)BIO_get_ex_data(b, tutti_bio_cb_index);
	long result              = inner ? inner(b, oper, argp, len, argi, argl, ret, processed) : ret;

	if (oper & BIO_CB_RETURN)
		return ret;

	return result;
}

void __wrap_BIO_set_callback_ex(BIO* b, BIO_callback_fn_ex callback)
{
	/* The worker is single-threaded; one index per process is enough. */
	if (tutti_bio_cb_index < 0)
		tutti_bio_cb_index = BIO_get_ex_new_index(0, NULL, NULL, NULL, NULL);

	if (callback == NULL || tutti_bio_cb_index < 0)
	{
		__real_BIO_set_callback_ex(b, callback);
		return;
	}

	BIO_set_ex_data(b, tutti_bio_cb_index, (void*)callback);
	__real_BIO_set_callback_ex(b, tutti_bio_trampoline);
}

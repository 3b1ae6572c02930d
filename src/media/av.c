/*
 * av.c - video and audio with FFmpeg: probe, poster frame, keyframe strip.
 *
 * libavformat reads through a custom AVIOContext over pread() on the
 * borrowed descriptor (seekable, position-independent), and may open
 * nothing else: protocol_whitelist is empty, so playlist demuxers (HLS,
 * concat) cannot reach other files or the network.
 *
 * Frames are converted to RGB24 at their display size by libswscale and
 * handed to libvips for rotation, resizing and WebP.
 */
#include "media/av.h"
#include "media/imgio.h"
#include "media/init.h"

#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define AV_IO_BUF 65536
#define KEYFRAMES_MAX 10
#define KEYFRAME_HEIGHT 160
#define POSTER_MAX 1600
#define THUMB_MAX 320
/* frames decoded after a seek while looking for the target time */
#define SEEK_DECODE_MAX 120
/* Decode on (instead of seeking) to a frame at most this far ahead. */
#define FORWARD_DECODE_MAX_S 30.0

struct av_fd {
	int fd;
	int64_t pos;
	int64_t size;
};

struct av_in {
	struct av_fd io;
	AVIOContext *avio;
	AVFormatContext *fmt;
	int vidx;                /* video stream or -1 */
	AVCodecContext *dec;
	int rotation;            /* clockwise degrees to display upright */
	int64_t last_pts;        /* timestamp of the frame decoded last */
	bool positioned;         /* the decoder has decoded since the last seek */
};

static int av_read(void *opaque, uint8_t *buf, int size)
{
	struct av_fd *f = opaque;
	ssize_t n;

	do
		n = pread(f->fd, buf, (size_t)size, (off_t)f->pos);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return AVERROR(errno);
	if (n == 0)
		return AVERROR_EOF;
	f->pos += n;
	return (int)n;
}

static int64_t av_seek(void *opaque, int64_t offset, int whence)
{
	struct av_fd *f = opaque;
	int64_t np;

	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return f->size;
	case SEEK_SET:
		np = offset;
		break;
	case SEEK_CUR:
		np = f->pos + offset;
		break;
	case SEEK_END:
		np = f->size + offset;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (np < 0)
		return AVERROR(EINVAL);
	f->pos = np;
	return np;
}

static int av_errmsg(struct dam_err *err, int code, const char *what, int averr)
{
	char buf[AV_ERROR_MAX_STRING_SIZE];

	av_strerror(averr, buf, sizeof buf);
	return dam_err_set(err, code, NULL, "%s: %s", what, buf);
}

/* Clockwise degrees (0, 90, 180, 270) that make the stream upright. */
static int stream_rotation(AVStream *st)
{
	size_t size = 0;
	const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, &size);
	AVDictionaryEntry *tag;
	double theta = 0;

	if (m && size >= 9 * sizeof(int32_t)) {
		theta = -av_display_rotation_get((const int32_t *)m);
	} else if ((tag = av_dict_get(st->metadata, "rotate", NULL, 0))) {
		char *end;

		theta = strtod(tag->value, &end);
		if (end == tag->value)
			theta = 0;
	}
	if (!isfinite(theta))
		return 0;
	theta -= 360 * floor(theta / 360 + 0.9 / 360);
	return ((int)lround(theta / 90) % 4) * 90;
}

static void av_in_close(struct av_in *in)
{
	avcodec_free_context(&in->dec);
	avformat_close_input(&in->fmt);
	if (in->avio) {
		av_freep(&in->avio->buffer);
		avio_context_free(&in->avio);
	}
}

static int av_in_open(struct av_in *in, int fd, struct dam_err *err)
{
	AVDictionary *opts = NULL;
	unsigned char *buf = NULL;
	struct stat sb;
	unsigned i;
	int r;

	memset(in, 0, sizeof *in);
	in->vidx = -1;
	if (fstat(fd, &sb) < 0)
		return dam_err_errno(err, DAM_EIO, errno, "cannot stat file");
	in->io = (struct av_fd){ .fd = fd, .pos = 0, .size = (int64_t)sb.st_size };
	buf = av_malloc(AV_IO_BUF);
	if (!buf)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	in->avio = avio_alloc_context(buf, AV_IO_BUF, 0, &in->io, av_read, NULL, av_seek);
	if (!in->avio) {
		av_free(buf);
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	}
	in->fmt = avformat_alloc_context();
	if (!in->fmt)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	in->fmt->pb = in->avio;
	in->fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
	av_dict_set(&opts, "protocol_whitelist", "", 0);
	r = avformat_open_input(&in->fmt, NULL, NULL, &opts);
	av_dict_free(&opts);
	if (r < 0) /* in->fmt was freed and set to NULL */
		return av_errmsg(err, DAM_EMEDIA, "cannot open media", r);
	if ((r = avformat_find_stream_info(in->fmt, NULL)) < 0)
		return av_errmsg(err, DAM_EMEDIA, "cannot read media streams", r);
	for (i = 0; i < in->fmt->nb_streams; i++) {
		AVStream *st = in->fmt->streams[i];

		/* cover art in audio files is a one-picture "video" stream */
		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
			in->vidx = (int)i;
			in->rotation = stream_rotation(st);
			break;
		}
	}
	return 0;
}

static AVStream *first_audio(AVFormatContext *fmt)
{
	unsigned i;

	for (i = 0; i < fmt->nb_streams; i++)
		if (fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO)
			return fmt->streams[i];
	return NULL;
}

static double rate(AVRational r)
{
	return r.num > 0 && r.den > 0 ? av_q2d(r) : 0;
}

int media__av_probe(int fd, const struct media_limits *lim, json_t *obj, struct dam_err *err)
{
	struct av_in in;
	AVStream *st;
	int rc;

	if ((rc = av_in_open(&in, fd, err)) < 0)
		goto out;
	json_object_set_new(obj, "container", json_string(in.fmt->iformat->name));
	if (in.fmt->duration != AV_NOPTS_VALUE && in.fmt->duration > 0)
		json_object_set_new(obj, "duration",
				    json_real((double)in.fmt->duration / AV_TIME_BASE));
	if (in.fmt->bit_rate > 0)
		json_object_set_new(obj, "bitrate", json_integer(in.fmt->bit_rate));
	if (in.vidx >= 0) {
		AVCodecParameters *par;
		double fps;

		st = in.fmt->streams[in.vidx];
		par = st->codecpar;
		fps = rate(st->avg_frame_rate);
		if (fps <= 0)
			fps = rate(st->r_frame_rate);
		json_object_set_new(obj, "video",
				    json_pack("{s:s,s:i,s:i,s:f,s:i}", "codec",
					      avcodec_get_name(par->codec_id), "width", par->width,
					      "height", par->height, "fps",
					      round(fps * 1000) / 1000, "rotation", in.rotation));
		json_object_set_new(obj, "width", json_integer(par->width));
		json_object_set_new(obj, "height", json_integer(par->height));
	}
	if ((st = first_audio(in.fmt))) {
		AVCodecParameters *par = st->codecpar;

		json_object_set_new(obj, "audio",
				    json_pack("{s:s,s:i,s:i}", "codec", avcodec_get_name(par->codec_id),
					      "channels", par->ch_layout.nb_channels, "sample_rate",
					      par->sample_rate));
	}
out:
	av_in_close(&in);
	return rc;
}

static int open_decoder(struct av_in *in, struct dam_err *err)
{
	AVStream *st = in->fmt->streams[in->vidx];
	const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
	int r;

	if (!codec)
		return dam_err_set(err, DAM_EMEDIA, NULL, "no decoder for video codec %s",
				   avcodec_get_name(st->codecpar->codec_id));
	in->dec = avcodec_alloc_context3(codec);
	if (!in->dec)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((r = avcodec_parameters_to_context(in->dec, st->codecpar)) < 0)
		return av_errmsg(err, DAM_EMEDIA, "bad video parameters", r);
	/* Jobs already run one per core: more decoder threads would only
	 * contend with the other job. */
	in->dec->thread_count = 1;
	if ((r = avcodec_open2(in->dec, codec, NULL)) < 0)
		return av_errmsg(err, DAM_EMEDIA, "cannot open video decoder", r);
	return 0;
}

/*
 * Decodes the frame shown at `t` seconds into *frame (caller's): seeks to
 * the key frame before t, then decodes forward until t (at most
 * SEEK_DECODE_MAX frames, so a long GOP costs bounded time). At the end of
 * the stream the last frame decoded counts. Sets *pts.
 */
static int grab_frame(struct av_in *in, double t, AVFrame *frame, int64_t *pts,
		      struct dam_err *err)
{
	AVStream *st = in->fmt->streams[in->vidx];
	int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
	int64_t target = start + (int64_t)(t / av_q2d(st->time_base));
	AVPacket *pkt = av_packet_alloc();
	AVFrame *tmp = av_frame_alloc();
	bool have = false, eof = false, seek;
	int decoded = 0, r, rc = 0;

	if (!pkt || !tmp) {
		rc = dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
		goto out;
	}
	/* Frames are asked for in time order: decoding on from the last one
	 * is cheaper than seeking back to a key frame (a short clip may have
	 * just one) and decoding forward again. Seek only backwards or for a
	 * long jump. */
	seek = !in->positioned || target < in->last_pts ||
	       (double)(target - in->last_pts) * av_q2d(st->time_base) > FORWARD_DECODE_MAX_S;
	if (seek) {
		/* a failed seek (odd container) just decodes from where we are */
		if (av_seek_frame(in->fmt, in->vidx, target, AVSEEK_FLAG_BACKWARD) < 0)
			av_seek_frame(in->fmt, -1, 0, AVSEEK_FLAG_BACKWARD);
		avcodec_flush_buffers(in->dec);
	}
	for (;;) {
		r = avcodec_receive_frame(in->dec, tmp);
		if (r == 0) {
			av_frame_unref(frame);
			av_frame_move_ref(frame, tmp);
			have = true;
			*pts = frame->best_effort_timestamp;
			if (*pts == AV_NOPTS_VALUE || *pts >= target || (seek && ++decoded >= SEEK_DECODE_MAX))
				break;
			continue;
		}
		if (r == AVERROR_EOF)
			break;
		if (r != AVERROR(EAGAIN)) {
			rc = av_errmsg(err, DAM_EMEDIA, "cannot decode video", r);
			goto out;
		}
		if (eof)
			break;
		r = av_read_frame(in->fmt, pkt);
		if (r < 0) {
			eof = true;
			avcodec_send_packet(in->dec, NULL); /* drain */
			continue;
		}
		if (pkt->stream_index == in->vidx) {
			r = avcodec_send_packet(in->dec, pkt);
			/* a damaged packet: skip it, as players do, unless nothing
			 * ever decodes (checked below) */
			(void)r;
		}
		av_packet_unref(pkt);
	}
	if (!have && !seek) {
		/* Decoding on ran off the end (a target past the last frame):
		 * seek back and take the last frame there is. */
		av_frame_free(&tmp);
		av_packet_free(&pkt);
		in->positioned = false;
		return grab_frame(in, t, frame, pts, err);
	}
	if (!have)
		rc = dam_err_set(err, DAM_EMEDIA, NULL, "no video frame decodes at %.2f s", t);
	in->positioned = have && !eof;
	in->last_pts = have && *pts != AV_NOPTS_VALUE ? *pts : in->last_pts;
out:
	av_frame_free(&tmp);
	av_packet_free(&pkt);
	return rc;
}

/* Display size of the frame (pixel aspect applied), before rotation. */
static void display_size(const AVFrame *f, int *w, int *h)
{
	AVRational sar = f->sample_aspect_ratio;

	*w = f->width;
	*h = f->height;
	if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) {
		double dw = f->width * av_q2d(sar);

		if (dw >= 1 && dw < 1e5)
			*w = (int)lround(dw);
	}
}

/* Scales `f` to w x h RGB24, rotates by in->rotation; *out new image. */
static int frame_to_vips(struct av_in *in, const AVFrame *f, int w, int h, VipsImage **out,
			 struct dam_err *err)
{
	struct SwsContext *sws = NULL;
	uint8_t *rgb = NULL;
	VipsImage *im = NULL;
	int stride = w * 3, rc = 0;

	*out = NULL;
	sws = sws_getContext(f->width, f->height, (enum AVPixelFormat)f->format, w, h,
			     AV_PIX_FMT_RGB24, SWS_BICUBIC, NULL, NULL, NULL);
	rgb = malloc((size_t)stride * (size_t)h);
	if (!sws || !rgb) {
		rc = dam_err_set(err, DAM_EMEDIA, NULL, "cannot convert video frame (%dx%d %s)",
				 f->width, f->height,
				 av_get_pix_fmt_name((enum AVPixelFormat)f->format)
					 ?: "unknown pixel format");
		goto out;
	}
	if (sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, &rgb,
		      &stride) != h) {
		rc = dam_err_set(err, DAM_EMEDIA, NULL, "cannot convert video frame");
		goto out;
	}
	im = vips_image_new_from_memory_copy(rgb, (size_t)stride * (size_t)h, w, h, 3,
					     VIPS_FORMAT_UCHAR);
	if (!im) {
		rc = media__vips_err(err, DAM_EMEDIA, "cannot wrap video frame");
		goto out;
	}
	if (in->rotation) {
		VipsAngle a = in->rotation == 90	? VIPS_ANGLE_D90
			      : in->rotation == 180 ? VIPS_ANGLE_D180
						    : VIPS_ANGLE_D270;

		if (vips_rot(im, out, a, NULL)) {
			rc = media__vips_err(err, DAM_EMEDIA, "cannot rotate video frame");
			goto out;
		}
	} else {
		*out = im;
		im = NULL;
	}
out:
	if (im)
		g_object_unref(im);
	free(rgb);
	sws_freeContext(sws);
	return rc;
}

/* Scale factor making the longest (displayed) side at most `max`. */
static void fit_box(int w, int h, int max, int *ow, int *oh)
{
	int lng = w > h ? w : h;

	*ow = w;
	*oh = h;
	if (lng <= max)
		return;
	if (w >= h) {
		*ow = max;
		*oh = (int)lround((double)h * max / w);
	} else {
		*oh = max;
		*ow = (int)lround((double)w * max / h);
	}
	if (*ow < 1)
		*ow = 1;
	if (*oh < 1)
		*oh = 1;
}

static int emit_poster(struct av_in *in, double dur, media_emit_fn emit, void *ctx,
		       struct dam_err *err)
{
	AVFrame *f = av_frame_alloc();
	VipsImage *im = NULL;
	json_t *extra = NULL;
	int64_t pts;
	int dw, dh, w, h, rc;

	if (!f)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if ((rc = grab_frame(in, dur > 0 ? dur * 0.1 : 0, f, &pts, err)) < 0)
		goto out;
	display_size(f, &dw, &dh);
	fit_box(dw, dh, POSTER_MAX, &w, &h);
	if ((rc = frame_to_vips(in, f, w, h, &im, err)) < 0)
		goto out;
	extra = json_pack("{s:f}", "time", dur * 0.1);
	if ((rc = media__emit_webp(im, "poster", POSTER_MAX, extra, emit, ctx, err)) < 0)
		goto out;
	rc = media__emit_webp(im, "thumbnail", THUMB_MAX, extra, emit, ctx, err);
out:
	json_decref(extra);
	if (im)
		g_object_unref(im);
	av_frame_free(&f);
	return rc;
}

static int emit_keyframes(struct av_in *in, double dur, double maxsec, media_emit_fn emit,
			  void *ctx, struct dam_err *err)
{
	VipsImage *frames[KEYFRAMES_MAX] = { NULL }, *strip = NULL;
	AVFrame *f = av_frame_alloc();
	json_t *extra = NULL;
	int64_t pts, last = AV_NOPTS_VALUE;
	double span = dur;
	int n = 0, i, count, rc = 0;

	if (!f)
		return dam_err_set(err, DAM_ENOMEM, NULL, "out of memory");
	if (maxsec > 0 && span > maxsec)
		span = maxsec;
	count = span > 0 ? KEYFRAMES_MAX : 1;
	for (i = 0; i < count; i++) {
		int dw, dh, w, h;

		if ((rc = grab_frame(in, span * (i + 0.5) / count, f, &pts, err)) < 0)
			goto out;
		if (n > 0 && pts == last)
			continue; /* a short clip: the same frame again */
		last = pts;
		display_size(f, &dw, &dh);
		/* KEYFRAME_HEIGHT tall once rotated upright */
		if (in->rotation == 90 || in->rotation == 270) {
			w = KEYFRAME_HEIGHT;
			h = (int)lround((double)dh * KEYFRAME_HEIGHT / dw);
		} else {
			h = KEYFRAME_HEIGHT;
			w = (int)lround((double)dw * KEYFRAME_HEIGHT / dh);
		}
		if (w < 1 || h < 1 || w > 16 * KEYFRAME_HEIGHT || h > 16 * KEYFRAME_HEIGHT)
			continue; /* absurd aspect: leave this frame out */
		if ((rc = frame_to_vips(in, f, w, h, &frames[n], err)) < 0)
			goto out;
		n++;
	}
	if (n == 0)
		goto out;
	if (vips_arrayjoin(frames, &strip, n, "across", n, NULL)) {
		rc = media__vips_err(err, DAM_EMEDIA, "cannot join key frames");
		goto out;
	}
	extra = json_pack("{s:i,s:i,s:f}", "frames", n, "height", KEYFRAME_HEIGHT, "span", span);
	rc = media__emit_webp(strip, "keyframes", 0, extra, emit, ctx, err);
out:
	json_decref(extra);
	if (strip)
		g_object_unref(strip);
	for (i = 0; i < n; i++)
		g_object_unref(frames[i]);
	av_frame_free(&f);
	return rc;
}

int media__av_derive(int fd, const struct media_limits *lim, media_emit_fn emit, void *ctx,
		     struct dam_err *err)
{
	struct av_in in;
	AVCodecParameters *par;
	double dur = 0;
	int rc;

	if ((rc = av_in_open(&in, fd, err)) < 0 || in.vidx < 0)
		goto out; /* audio only: nothing to show */
	par = in.fmt->streams[in.vidx]->codecpar;
	if ((rc = media__check_size(par->width, par->height, lim, err)) < 0)
		goto out;
	if ((rc = open_decoder(&in, err)) < 0)
		goto out;
	if (in.fmt->duration != AV_NOPTS_VALUE && in.fmt->duration > 0)
		dur = (double)in.fmt->duration / AV_TIME_BASE;
	if ((rc = emit_poster(&in, dur, emit, ctx, err)) < 0)
		goto out;
	rc = emit_keyframes(&in, dur, lim->max_video_seconds, emit, ctx, err);
out:
	av_in_close(&in);
	return rc;
}

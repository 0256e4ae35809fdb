/*
 * fake_tobii_research.c: a test double of the Tobii Pro SDK 2.x C library.
 *
 * Exports the tobii_research_* functions scanscribe resolves, with the SDK's
 * signatures, and fakes one screen-based tracker that streams a scripted gaze path
 * (a circle, 2 s a turn, with a 100 ms blink every 2 s) from its own pthread at
 * 1200 Hz (or any offered frequency), stamped with CLOCK_MONOTONIC microseconds.
 * Types are our own, written to the 2.x header layouts (checked below).
 *
 * Build:  cc -shared -fPIC -pthread -O2 -o libfake_tobii.so fake_tobii_research.c
 *   -DFAKE_TOBII_SDK_MAJOR=1   report SDK 1.x (env FAKE_TOBII_SDK_MAJOR overrides)
 *   -DFAKE_TOBII_NO_TRACKERS   discovery finds nothing
 *
 * Faults are chosen per tracker through the address's query string, e.g.
 *   tobii-prp://FAKE-0001?hz=600&disconnect_after_ms=300&restore_after_ms=200
 *   hz=N                    initial gaze output frequency (60/120/300/600/1200)
 *   disconnect_after_ms=N   stop streaming, CONNECTION_LOST notification + stream error
 *   restore_after_ms=N      ... then CONNECTION_RESTORED and streaming again
 *   stall_after_ms=N, stall_ms=M  delivery stalls, then the backlog arrives at once
 *                           (a burst faster than any consumer drains) and a
 *                           STREAM_BUFFER_OVERFLOW notification follows
 *   display_area_after_ms=N DISPLAY_AREA_CHANGED notification
 *   cal_invalid=x,y         calibration data at that target is invalid
 *   cal_error=x,y           collecting at that target fails (SE_OPERATION_FAILED)
 *   collect_ms=N            how long collect_data blocks (default 50)
 * Host "offline" (tobii-prp://offline) fails to connect.
 * Env FAKE_TOBII_REPORT_LEAKS=1 prints the number of unfreed SDK allocations at exit.
 */
#define _GNU_SOURCE
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef FAKE_TOBII_SDK_MAJOR
#define FAKE_TOBII_SDK_MAJOR 2
#endif

enum { OK = 0, INVALID_PARAMETER = 10, SE_NOT_SUPPORTED = 202, SE_CONNECTION_FAILED = 204,
       SE_CAL_ALREADY_STARTED = 210, SE_CAL_NOT_STARTED = 211, SE_ALREADY_SUBSCRIBED = 212,
       SE_NOT_SUBSCRIBED = 213, SE_OPERATION_FAILED = 214 };
enum { N_CONNECTION_LOST = 0, N_CONNECTION_RESTORED = 1, N_CAL_ENTERED = 2, N_CAL_LEFT = 3,
       N_DISPLAY_AREA_CHANGED = 5, N_FREQUENCY_CHANGED = 6, N_BUFFER_OVERFLOW = 10 };

typedef struct { float x, y; } p2;
typedef struct { float x, y, z; } p3;
typedef struct { p2 on_display; p3 in_user; int validity; } gaze_point;
typedef struct { float diameter; int validity; } pupil;
typedef struct { p3 in_user; int validity; } gaze_origin;
typedef struct { gaze_point point; pupil pupil; gaze_origin origin; } eye_data;
typedef struct { eye_data left, right; int64_t device_time_stamp, system_time_stamp; } gaze_data;
typedef struct { p3 bottom_left, bottom_right; float height; p3 top_left, top_right; float width; } display_area;
typedef struct { int64_t system_time_stamp; int type;
                 union { float output_frequency; display_area area; char text[512]; } value; } notification;
typedef struct { int64_t system_time_stamp; int error, source; const char *message; } stream_error;
typedef struct { p2 position; int validity; } cal_eye;
typedef struct { cal_eye left, right; } cal_sample;
typedef struct { p2 position; cal_sample *samples; size_t sample_count; } cal_point;
typedef struct { cal_point *points; size_t point_count; int status; } cal_result;
typedef struct { void **trackers; size_t count; } tracker_list;
typedef struct { float *frequencies; size_t count; } frequency_list;
typedef struct { int major, minor, revision, build; } sdk_version;

#if UINTPTR_MAX == 0xffffffffffffffffu
_Static_assert(sizeof(gaze_data) == 112, "TobiiResearchGazeData is 112 bytes in 2.x");
_Static_assert(offsetof(gaze_data, device_time_stamp) == 96, "device time at 96");
_Static_assert(offsetof(gaze_data, system_time_stamp) == 104, "system time at 104");
_Static_assert(sizeof(notification) == 528, "TobiiResearchNotification is 528 bytes");
_Static_assert(sizeof(cal_result) == 24, "TobiiResearchCalibrationResult is 24 bytes");
#endif

typedef void (*gaze_cb)(gaze_data *, void *);
typedef void (*notification_cb)(notification *, void *);
typedef void (*error_cb)(stream_error *, void *);

#define MAX_TRACKERS 64
#define MAX_CAL_POINTS 32
#define CAL_SAMPLES 6

typedef struct {
    char address[256], serial[64];
    int hz, disconnect_after_ms, restore_after_ms, stall_after_ms, stall_ms,
        display_area_after_ms, collect_ms, has_cal_invalid, has_cal_error, offline;
    p2 cal_invalid, cal_error;
    pthread_mutex_t lock; /* held while calling back and while changing callbacks */
    gaze_cb gaze; void *gaze_user;
    notification_cb notify; void *notify_user;
    error_cb error; void *error_user;
    pthread_t thread; int thread_running, stop, disconnected, calibrating, point_count;
    struct { p2 position; int valid; } points[MAX_CAL_POINTS];
} tracker;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static tracker *registry[MAX_TRACKERS];
static long outstanding_allocations;

static void *sdk_alloc(size_t size) {
    __atomic_add_fetch(&outstanding_allocations, 1, __ATOMIC_SEQ_CST);
    return calloc(1, size);
}
static void sdk_free(void *p) {
    if (p) { __atomic_sub_fetch(&outstanding_allocations, 1, __ATOMIC_SEQ_CST); free(p); }
}
static char *sdk_strdup(const char *s) {
    char *out = sdk_alloc(strlen(s) + 1);
    strcpy(out, s);
    return out;
}

__attribute__((destructor)) static void report_leaks(void) {
    if (getenv("FAKE_TOBII_REPORT_LEAKS"))
        fprintf(stderr, "fake_tobii: %ld SDK allocations not freed\n", outstanding_allocations);
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void sleep_until_ns(int64_t deadline) {
#ifdef __linux__
    struct timespec ts = { (time_t)(deadline / 1000000000), (long)(deadline % 1000000000) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0) {}
#else
    int64_t left = deadline - now_ns();
    if (left > 0) {
        struct timespec ts = { (time_t)(left / 1000000000), (long)(left % 1000000000) };
        nanosleep(&ts, NULL);
    }
#endif
}

static int query_int(const char *address, const char *key, int fallback) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%s=", key);
    const char *q = strchr(address, '?');
    for (const char *p = q; p && (p = strstr(p, pattern)); p++)
        if (p[-1] == '?' || p[-1] == '&') return atoi(p + strlen(pattern));
    return fallback;
}

static int query_point(const char *address, const char *key, p2 *out) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%s=", key);
    const char *q = strchr(address, '?');
    for (const char *p = q; p && (p = strstr(p, pattern)); p++)
        if ((p[-1] == '?' || p[-1] == '&') &&
            sscanf(p + strlen(pattern), "%f,%f", &out->x, &out->y) == 2) return 1;
    return 0;
}

static int near(p2 a, float x, float y) { return fabsf(a.x - x) < 1e-3f && fabsf(a.y - y) < 1e-3f; }

static void notify(tracker *t, int type, int64_t at_us, const char *text, float frequency) {
    notification n;
    memset(&n, 0, sizeof n);
    n.system_time_stamp = at_us;
    n.type = type;
    if (type == N_FREQUENCY_CHANGED) n.value.output_frequency = frequency;
    else if (type == N_DISPLAY_AREA_CHANGED) {
        n.value.area.width = 527.0f; n.value.area.height = 296.0f;
        n.value.area.top_left = (p3){ -263.5f, 316.0f, 60.0f };
    } else if (text) snprintf(n.value.text, sizeof n.value.text, "%s", text);
    pthread_mutex_lock(&t->lock);
    if (t->notify) t->notify(&n, t->notify_user);
    pthread_mutex_unlock(&t->lock);
}

static void report_stream_error(tracker *t, int64_t at_us, int error, int source, const char *msg) {
    stream_error e = { at_us, error, source, msg };
    pthread_mutex_lock(&t->lock);
    if (t->error) t->error(&e, t->error_user);
    pthread_mutex_unlock(&t->lock);
}

static void fill_sample(gaze_data *s, int64_t capture_ns, int64_t stream_start_ns) {
    double t_s = (double)(capture_ns - stream_start_ns) / 1e9;
    double angle = 2.0 * M_PI * t_s / 2.0;
    int blink = fmod(t_s, 2.0) >= 1.0 && fmod(t_s, 2.0) < 1.1;
    memset(s, 0, sizeof *s);
    s->system_time_stamp = capture_ns / 1000;
    s->device_time_stamp = capture_ns / 1000 + 987654321; /* the tracker's own clock */
    eye_data *eyes[2] = { &s->left, &s->right };
    for (int i = 0; i < 2; i++) {
        eye_data *e = eyes[i];
        if (blink) {
            e->point.on_display = (p2){ NAN, NAN };
            e->pupil.diameter = NAN;
            e->origin.in_user = (p3){ NAN, NAN, NAN };
            continue;
        }
        e->point.on_display.x = (float)(0.5 + 0.3 * cos(angle) + (i ? 0.01 : 0.0));
        e->point.on_display.y = (float)(0.5 + 0.3 * sin(angle));
        e->point.in_user = (p3){ (float)(e->point.on_display.x * 527 - 263.5), 150, 60 };
        e->point.validity = 1;
        e->pupil.diameter = i ? 3.2f : 3.0f;
        e->pupil.validity = 1;
        e->origin.in_user = (p3){ i ? 30.0f : -30.0f, 0.0f, 600.0f };
        e->origin.validity = 1;
    }
}

static void *stream_thread(void *arg) {
    tracker *t = arg;
    int64_t stream_start = now_ns(), schedule_start = stream_start, k = 0;
    int64_t disconnected_at_ms = -1;
    int hz = __atomic_load_n(&t->hz, __ATOMIC_SEQ_CST);
    int stalled = 0, area_sent = 0;
    while (!__atomic_load_n(&t->stop, __ATOMIC_SEQ_CST)) {
        int new_hz = __atomic_load_n(&t->hz, __ATOMIC_SEQ_CST);
        if (new_hz != hz) { /* restart the schedule at the last deadline */
            schedule_start += (int64_t)((double)k * 1e9 / hz);
            k = 0; hz = new_hz;
        }
        int64_t deadline = schedule_start + (int64_t)((double)k * 1e9 / hz);
        k++;
        sleep_until_ns(deadline);
        int64_t elapsed_ms = (deadline - stream_start) / 1000000;
        if (t->stall_after_ms >= 0 && !stalled && elapsed_ms >= t->stall_after_ms) {
            stalled = 1; /* block delivery; the missed deadlines then fire back to back */
            sleep_until_ns(now_ns() + (int64_t)t->stall_ms * 1000000);
            notify(t, N_BUFFER_OVERFLOW, now_ns() / 1000, "gaze", 0);
        }
        if (t->display_area_after_ms >= 0 && !area_sent && elapsed_ms >= t->display_area_after_ms) {
            area_sent = 1;
            notify(t, N_DISPLAY_AREA_CHANGED, deadline / 1000, NULL, 0);
        }
        if (t->disconnect_after_ms >= 0 && disconnected_at_ms < 0 && elapsed_ms >= t->disconnect_after_ms) {
            disconnected_at_ms = elapsed_ms;
            __atomic_store_n(&t->disconnected, 1, __ATOMIC_SEQ_CST);
            notify(t, N_CONNECTION_LOST, deadline / 1000, NULL, 0);
            report_stream_error(t, deadline / 1000, 0, 1, "fake tracker unplugged");
        }
        if (__atomic_load_n(&t->disconnected, __ATOMIC_SEQ_CST)) {
            if (t->restore_after_ms < 0 || elapsed_ms < disconnected_at_ms + t->restore_after_ms) continue;
            __atomic_store_n(&t->disconnected, 0, __ATOMIC_SEQ_CST);
            notify(t, N_CONNECTION_RESTORED, deadline / 1000, NULL, 0);
        }
        gaze_data sample;
        fill_sample(&sample, deadline, stream_start);
        pthread_mutex_lock(&t->lock);
        if (t->gaze) t->gaze(&sample, t->gaze_user);
        pthread_mutex_unlock(&t->lock);
    }
    return NULL;
}

static tracker *get_or_create(const char *address) {
    pthread_mutex_lock(&registry_lock);
    tracker *found = NULL;
    for (int i = 0; i < MAX_TRACKERS && registry[i] && !found; i++)
        if (strcmp(registry[i]->address, address) == 0) found = registry[i];
    for (int i = 0; i < MAX_TRACKERS && !found; i++) {
        if (registry[i]) continue;
        tracker *t = calloc(1, sizeof *t);
        snprintf(t->address, sizeof t->address, "%s", address);
        const char *host = strstr(address, "://");
        host = host ? host + 3 : address;
        size_t n = strcspn(host, "?/");
        snprintf(t->serial, sizeof t->serial, "%.*s", (int)(n < 63 ? n : 63), host);
        t->offline = strcmp(t->serial, "offline") == 0;
        t->hz = query_int(address, "hz", 1200);
        t->disconnect_after_ms = query_int(address, "disconnect_after_ms", -1);
        t->restore_after_ms = query_int(address, "restore_after_ms", -1);
        t->stall_after_ms = query_int(address, "stall_after_ms", -1);
        t->stall_ms = query_int(address, "stall_ms", 0);
        t->display_area_after_ms = query_int(address, "display_area_after_ms", -1);
        t->collect_ms = query_int(address, "collect_ms", 50);
        t->has_cal_invalid = query_point(address, "cal_invalid", &t->cal_invalid);
        t->has_cal_error = query_point(address, "cal_error", &t->cal_error);
        pthread_mutex_init(&t->lock, NULL);
        registry[i] = found = t;
    }
    pthread_mutex_unlock(&registry_lock);
    return found;
}

/* ---- tobii_research.h ---- */

int tobii_research_get_sdk_version(sdk_version *v) {
    if (!v) return INVALID_PARAMETER;
    const char *env = getenv("FAKE_TOBII_SDK_MAJOR");
    *v = (sdk_version){ env ? atoi(env) : FAKE_TOBII_SDK_MAJOR, FAKE_TOBII_SDK_MAJOR == 1 ? 11 : 1, 0, 42 };
    return OK;
}

int tobii_research_get_system_time_stamp(int64_t *us) {
    if (!us) return INVALID_PARAMETER;
    *us = now_ns() / 1000;
    return OK;
}

int tobii_research_find_all_eyetrackers(tracker_list **out) {
    if (!out) return INVALID_PARAMETER;
    tracker_list *list = sdk_alloc(sizeof *list);
#ifndef FAKE_TOBII_NO_TRACKERS
    list->trackers = sdk_alloc(sizeof(void *));
    list->trackers[0] = get_or_create("tobii-prp://FAKE-0001");
    list->count = 1;
#endif
    *out = list;
    return OK;
}

void tobii_research_free_eyetrackers(tracker_list *list) {
    if (list) { sdk_free(list->trackers); sdk_free(list); }
}

int tobii_research_get_eyetracker(const char *address, tracker **out) {
    if (!address || !out || (strncmp(address, "tobii-prp://", 12) && strncmp(address, "tet-tcp://", 10)))
        return INVALID_PARAMETER;
    tracker *t = get_or_create(address);
    if (!t) return SE_OPERATION_FAILED;
    if (t->offline) return SE_CONNECTION_FAILED;
    *out = t;
    return OK;
}

void tobii_research_free_string(char *s) { sdk_free(s); }

/* ---- tobii_research_eyetracker.h ---- */

#define STRING_GETTER(name, expr)                                      \
    int tobii_research_get_##name(tracker *t, char **out) {            \
        if (!t || !out) return INVALID_PARAMETER;                      \
        *out = sdk_strdup(expr);                                       \
        return OK;                                                     \
    }
STRING_GETTER(address, t->address)
STRING_GETTER(serial_number, t->serial)
STRING_GETTER(device_name, "scanscribe test double")
STRING_GETTER(model, "Tobii Pro Spectrum (fake)")
STRING_GETTER(firmware_version, "2.6.1-fake")

int tobii_research_get_capabilities(tracker *t, int *bits) {
    if (!t || !bits) return INVALID_PARAMETER;
    *bits = (1 << 0) | (1 << 1) | (1 << 3) | (1 << 5);
    return OK;
}

static const float offered_hz[] = { 60, 120, 300, 600, 1200 };

int tobii_research_get_all_gaze_output_frequencies(tracker *t, frequency_list **out) {
    if (!t || !out) return INVALID_PARAMETER;
    frequency_list *list = sdk_alloc(sizeof *list);
    list->count = sizeof offered_hz / sizeof offered_hz[0];
    list->frequencies = sdk_alloc(sizeof offered_hz);
    memcpy(list->frequencies, offered_hz, sizeof offered_hz);
    *out = list;
    return OK;
}

void tobii_research_free_gaze_output_frequencies(frequency_list *list) {
    if (list) { sdk_free(list->frequencies); sdk_free(list); }
}

int tobii_research_get_gaze_output_frequency(tracker *t, float *hz) {
    if (!t || !hz) return INVALID_PARAMETER;
    *hz = (float)__atomic_load_n(&t->hz, __ATOMIC_SEQ_CST);
    return OK;
}

int tobii_research_set_gaze_output_frequency(tracker *t, float hz) {
    if (!t) return INVALID_PARAMETER;
    if (__atomic_load_n(&t->disconnected, __ATOMIC_SEQ_CST)) return SE_CONNECTION_FAILED;
    for (size_t i = 0; i < sizeof offered_hz / sizeof offered_hz[0]; i++) {
        if (offered_hz[i] != hz) continue;
        __atomic_store_n(&t->hz, (int)hz, __ATOMIC_SEQ_CST);
        notify(t, N_FREQUENCY_CHANGED, now_ns() / 1000, NULL, hz);
        return OK;
    }
    return INVALID_PARAMETER;
}

/* ---- tobii_research_streams.h ---- */

int tobii_research_subscribe_to_gaze_data(tracker *t, gaze_cb cb, void *user) {
    if (!t || !cb) return INVALID_PARAMETER;
    pthread_mutex_lock(&t->lock);
    int busy = t->gaze != NULL;
    if (!busy) { t->gaze = cb; t->gaze_user = user; }
    pthread_mutex_unlock(&t->lock);
    if (busy) return SE_ALREADY_SUBSCRIBED;
    __atomic_store_n(&t->stop, 0, __ATOMIC_SEQ_CST);
    t->thread_running = pthread_create(&t->thread, NULL, stream_thread, t) == 0;
    return t->thread_running ? OK : SE_OPERATION_FAILED;
}

int tobii_research_unsubscribe_from_gaze_data(tracker *t, gaze_cb cb) {
    if (!t) return INVALID_PARAMETER;
    pthread_mutex_lock(&t->lock);
    int subscribed = t->gaze != NULL && t->gaze == cb;
    if (subscribed) t->gaze = NULL;
    pthread_mutex_unlock(&t->lock);
    if (!subscribed) return SE_NOT_SUBSCRIBED;
    __atomic_store_n(&t->stop, 1, __ATOMIC_SEQ_CST);
    if (t->thread_running) pthread_join(t->thread, NULL);
    t->thread_running = 0;
    return OK;
}

#define SUBSCRIPTION(name, field, type)                                          \
    int tobii_research_subscribe_to_##name(tracker *t, type cb, void *user) {     \
        if (!t || !cb) return INVALID_PARAMETER;                                  \
        pthread_mutex_lock(&t->lock);                                             \
        int busy = t->field != NULL;                                              \
        if (!busy) { t->field = cb; t->field##_user = user; }                     \
        pthread_mutex_unlock(&t->lock);                                           \
        return busy ? SE_ALREADY_SUBSCRIBED : OK;                                 \
    }                                                                             \
    int tobii_research_unsubscribe_from_##name(tracker *t, type cb) {             \
        if (!t) return INVALID_PARAMETER;                                         \
        pthread_mutex_lock(&t->lock);                                             \
        int subscribed = t->field != NULL && t->field == cb;                      \
        if (subscribed) t->field = NULL;                                          \
        pthread_mutex_unlock(&t->lock);                                           \
        return subscribed ? OK : SE_NOT_SUBSCRIBED;                               \
    }
SUBSCRIPTION(notifications, notify, notification_cb)
SUBSCRIPTION(stream_errors, error, error_cb)

/* ---- tobii_research_calibration.h ---- */

int tobii_research_screen_based_calibration_enter_calibration_mode(tracker *t) {
    if (!t) return INVALID_PARAMETER;
    if (t->calibrating) return SE_CAL_ALREADY_STARTED;
    t->calibrating = 1;
    t->point_count = 0;
    notify(t, N_CAL_ENTERED, now_ns() / 1000, NULL, 0);
    return OK;
}

int tobii_research_screen_based_calibration_leave_calibration_mode(tracker *t) {
    if (!t) return INVALID_PARAMETER;
    if (!t->calibrating) return SE_CAL_NOT_STARTED;
    t->calibrating = 0;
    notify(t, N_CAL_LEFT, now_ns() / 1000, NULL, 0);
    return OK;
}

int tobii_research_screen_based_calibration_collect_data(tracker *t, float x, float y) {
    if (!t) return INVALID_PARAMETER;
    if (!t->calibrating) return SE_CAL_NOT_STARTED;
    if (__atomic_load_n(&t->disconnected, __ATOMIC_SEQ_CST)) return SE_CONNECTION_FAILED;
    sleep_until_ns(now_ns() + (int64_t)t->collect_ms * 1000000); /* blocks, like the SDK */
    if (t->has_cal_error && near(t->cal_error, x, y)) return SE_OPERATION_FAILED;
    int i = 0;
    while (i < t->point_count && !near(t->points[i].position, x, y)) i++;
    if (i == MAX_CAL_POINTS) return SE_OPERATION_FAILED;
    if (i == t->point_count) t->point_count++;
    t->points[i].position = (p2){ x, y };
    t->points[i].valid = !(t->has_cal_invalid && near(t->cal_invalid, x, y));
    return OK;
}

int tobii_research_screen_based_calibration_discard_data(tracker *t, float x, float y) {
    if (!t) return INVALID_PARAMETER;
    if (!t->calibrating) return SE_CAL_NOT_STARTED;
    for (int i = 0; i < t->point_count; i++) {
        if (!near(t->points[i].position, x, y)) continue;
        t->points[i] = t->points[--t->point_count];
        return OK;
    }
    return INVALID_PARAMETER;
}

int tobii_research_screen_based_calibration_compute_and_apply(tracker *t, cal_result **out) {
    if (!t || !out) return INVALID_PARAMETER;
    if (!t->calibrating) return SE_CAL_NOT_STARTED;
    cal_result *r = sdk_alloc(sizeof *r);
    r->point_count = (size_t)t->point_count;
    r->points = sdk_alloc(sizeof(cal_point) * (r->point_count ? r->point_count : 1));
    int valid_points = 0;
    for (size_t i = 0; i < r->point_count; i++) {
        cal_point *p = &r->points[i];
        int valid = t->points[i].valid;
        valid_points += valid;
        p->position = t->points[i].position;
        p->sample_count = CAL_SAMPLES;
        p->samples = sdk_alloc(sizeof(cal_sample) * CAL_SAMPLES);
        for (int s = 0; s < CAL_SAMPLES; s++) {
            float dx = 0.002f * (float)s;
            p->samples[s].left = (cal_eye){ { p->position.x - 0.01f + dx, p->position.y }, valid ? 1 : -1 };
            p->samples[s].right = (cal_eye){ { p->position.x + 0.01f - dx, p->position.y }, valid ? 1 : -1 };
        }
    }
    r->status = valid_points >= 2 ? 1 : 0;
    *out = r;
    return OK;
}

void tobii_research_free_screen_based_calibration_result(cal_result *r) {
    if (!r) return;
    for (size_t i = 0; i < r->point_count; i++) sdk_free(r->points[i].samples);
    sdk_free(r->points);
    sdk_free(r);
}

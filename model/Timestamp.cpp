#include "Timestamp.h"

#include <QDate>

#include <cstdio>
#include <ctime>
#include <limits>

using namespace Qt::StringLiterals;

namespace eventdesk::timestamp {

namespace {

constexpr qint64 NanosPerSecond = 1'000'000'000;

// Reads exactly n ASCII digits at pos.
bool digits(QStringView s, qsizetype pos, int n, int &out)
{
    if (pos + n > s.size())
        return false;
    out = 0;
    for (int i = 0; i < n; ++i) {
        const char16_t c = s[pos + i].unicode();
        if (c < u'0' || c > u'9')
            return false;
        out = out * 10 + (c - u'0');
    }
    return true;
}

} // namespace

QString format(const QDateTime &when)
{
    return when.toUTC().toString(u"yyyy-MM-ddTHH:mm:ss.zzzZ"_s);
}

QString formatNanos(qint64 ns)
{
    const qint64 seconds = ns >= 0 ? ns / NanosPerSecond : -((-ns + NanosPerSecond - 1) / NanosPerSecond);
    const qint64 fraction = ns - seconds * NanosPerSecond;
    QString text = QDateTime::fromSecsSinceEpoch(seconds, Qt::UTC).toString(u"yyyy-MM-ddTHH:mm:ss"_s);
    if (fraction != 0) {
        QString f = u"%1"_s.arg(fraction, 9, 10, QChar(u'0'));
        while (f.endsWith(u'0'))
            f.chop(1);
        text += u'.' + f;
    }
    return text + u'Z';
}

QString now()
{
    return format(QDateTime::currentDateTimeUtc());
}

QByteArray nowUtf8()
{
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    tm utc{};
    gmtime_r(&ts.tv_sec, &utc);
    char text[32];
    const int n = std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, int(ts.tv_nsec / 1'000'000));
    return QByteArray(text, qBound(0, n, int(sizeof text) - 1));
}

namespace {

struct Parts {
    qint64 seconds;   // since the epoch, UTC
    qint64 fraction;  // nanoseconds
};

std::optional<Parts> parseParts(QStringView text)
{
    const QStringView s = text.trimmed();
    int year, month, day, hour, minute, second;
    if (!digits(s, 0, 4, year) || s.size() < 19 || s[4] != u'-' || !digits(s, 5, 2, month) || s[7] != u'-'
        || !digits(s, 8, 2, day))
        return std::nullopt;
    const QChar sep = s[10];
    if (sep != u'T' && sep != u't' && sep != u' ')
        return std::nullopt;
    if (!digits(s, 11, 2, hour) || s[13] != u':' || !digits(s, 14, 2, minute) || s[16] != u':'
        || !digits(s, 17, 2, second))
        return std::nullopt;
    if (hour > 23 || minute > 59 || second > 60)  // 60: a leap second, counted as the next
        return std::nullopt;
    const QDate date(year, month, day);
    if (!date.isValid())
        return std::nullopt;
    qsizetype pos = 19;
    qint64 fraction = 0;
    if (pos < s.size() && s[pos] == u'.') {
        ++pos;
        int n = 0;
        while (pos < s.size() && s[pos].isDigit() && s[pos].unicode() < 128) {
            if (n < 9)
                fraction = fraction * 10 + (s[pos].unicode() - u'0');
            ++n;
            ++pos;
        }
        if (n == 0)
            return std::nullopt;
        for (int k = std::min(n, 9); k < 9; ++k)
            fraction *= 10;
    }
    qint64 offsetSeconds = 0;
    if (pos < s.size()) {
        const QChar z = s[pos];
        if (z == u'Z' || z == u'z') {
            ++pos;
        } else if (z == u'+' || z == u'-') {
            int oh, om;
            if (!digits(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != u':' || !digits(s, pos + 4, 2, om)
                || oh > 23 || om > 59)
                return std::nullopt;
            offsetSeconds = (oh * 3600 + om * 60) * (z == u'-' ? -1 : 1);
            pos += 6;
        } else {
            return std::nullopt;
        }
    }
    if (pos != s.size())
        return std::nullopt;
    const qint64 days = QDate(1970, 1, 1).daysTo(date);
    return Parts{days * 86400 + hour * 3600 + minute * 60 + second - offsetSeconds, fraction};
}

} // namespace

std::optional<qint64> parseNanos(QStringView text)
{
    const std::optional<Parts> p = parseParts(text);
    if (!p)
        return std::nullopt;
    // Nanoseconds in 64 bits reach from 1677 to 2262; beyond, the nearest end
    // (a cutoff like 2999-01-01 still means "everything before").
    constexpr qint64 limit = std::numeric_limits<qint64>::max() / NanosPerSecond - 1;
    if (p->seconds > limit)
        return std::numeric_limits<qint64>::max();
    if (p->seconds < -limit)
        return std::numeric_limits<qint64>::min();
    return p->seconds * NanosPerSecond + p->fraction;
}

QDateTime parse(QStringView text)
{
    const std::optional<Parts> p = parseParts(text);
    return p ? QDateTime::fromMSecsSinceEpoch(p->seconds * 1000 + p->fraction / 1'000'000, Qt::UTC) : QDateTime();
}

qint64 nanos(const QDateTime &when)
{
    const qint64 ms = when.toMSecsSinceEpoch();
    constexpr qint64 limit = std::numeric_limits<qint64>::max() / 1'000'000;
    if (ms >= limit)
        return std::numeric_limits<qint64>::max();
    if (ms <= -limit)
        return std::numeric_limits<qint64>::min();
    return ms * 1'000'000;
}

QDateTime fromNanos(qint64 ns)
{
    const qint64 ms = ns >= 0 ? ns / 1'000'000 : -((-ns + 999'999) / 1'000'000);
    return QDateTime::fromMSecsSinceEpoch(ms, Qt::UTC);
}

} // namespace eventdesk::timestamp

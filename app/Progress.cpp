#include "Progress.h"

#include <cstdio>

#include <sys/ioctl.h>
#include <unistd.h>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

namespace {

int terminalWidth()
{
    winsize size{};
    if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col >= 40)
        return size.ws_col;
    return 80;
}

QString duration(double seconds)
{
    const qint64 s = qint64(seconds + 0.5);
    if (s >= 3600)
        return u"%1:%2:%3"_s.arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar(u'0')).arg(s % 60, 2, 10, QChar(u'0'));
    return u"%1:%2"_s.arg(s / 60).arg(s % 60, 2, 10, QChar(u'0'));
}

} // namespace

Progress::Progress(const QString &what, const QString &unit, bool quiet)
    : m_shown(!quiet && ::isatty(STDERR_FILENO))
    , m_what(what)
    , m_unit(unit)
{
    m_clock.start();
    m_lastDraw.start();
}

Progress::~Progress()
{
    if (m_drawn)
        finish();
}

void Progress::setWhat(const QString &what, const QString &unit)
{
    if (m_drawn && what != m_what) {
        draw();
        std::fputc('\n', stderr);
        m_drawn = false;
    }
    m_what = what;
    m_unit = unit;
    m_done = 0;
    m_total = 0;
    m_clock.restart();
}

void Progress::setTotal(qint64 total)
{
    m_total = std::max<qint64>(0, total);
}

void Progress::update(qint64 done, bool force)
{
    m_done = done;
    if (!m_shown || (!force && m_drawn && m_lastDraw.elapsed() < 100))
        return;
    draw();
}

void Progress::finish()
{
    if (!m_shown)
        return;
    draw();
    std::fputc('\n', stderr);
    std::fflush(stderr);
    m_drawn = false;
}

QString Progress::line(const QString &what, const QString &unit, qint64 done, qint64 total, double perSecond, int width)
{
    const auto n = [](qint64 v) {
        QString s = QString::number(v);
        for (qsizetype i = s.size() - 3; i > 0; i -= 3)
            s.insert(i, u',');
        return s;
    };
    QString text = u"eventdesk: "_s + what;
    QString tail;
    if (total > 0) {
        const qint64 shownDone = std::min(done, total);
        const int percent = int(shownDone * 100 / total);
        tail = u" %1 %  %2/%3 %4"_s.arg(percent, 3).arg(n(shownDone), n(total), unit);
    } else {
        tail = u"  %1 %2"_s.arg(n(done), unit);
    }
    if (perSecond > 0)
        tail += u"  %1/s"_s.arg(n(qint64(perSecond)));
    if (total > 0 && perSecond > 0 && done < total)
        tail += u"  ETA "_s + duration(double(total - done) / perSecond);
    if (total > 0) {
        const int room = width - 1 - int(text.size()) - int(tail.size()) - 3;
        const int bar = std::clamp(room, 0, 30);
        if (bar >= 10) {
            const int filled = int(std::min(done, total) * bar / total);
            text += u" ["_s + QString(filled, u'#') + QString(bar - filled, u'-') + u']';
        }
    }
    text += tail;
    return text.left(width - 1);
}

void Progress::draw()
{
    const double seconds = double(m_clock.elapsed()) / 1000.0;
    const double rate = seconds > 0.01 ? double(m_done) / seconds : 0;
    const QString text = line(m_what, m_unit, m_done, m_total, rate, terminalWidth());
    // \r to the start, the line, then clear what a longer line left.
    std::fprintf(stderr, "\r%s\x1b[K", text.toLocal8Bit().constData());
    std::fflush(stderr);
    m_drawn = true;
    m_lastDraw.restart();
}

} // namespace eventdesk::app

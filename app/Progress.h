// A progress bar for long commands (export, import, prune, forward --once,
// index), on stderr, only when stderr is a terminal and --quiet was not given:
//   eventdesk: exporting [########------------]  41 %  410,000/1,000,000 rows  81,230/s  ETA 0:07
// Redrawn in place at most ten times a second; finish() ends the line. When
// stderr is a pipe or a file nothing at all is written, so logs and scripts see
// only what they saw before.
#pragma once

#include <QElapsedTimer>
#include <QString>

namespace eventdesk::app {

class Progress
{
public:
    Progress(const QString &what, const QString &unit, bool quiet);
    ~Progress();
    Progress(const Progress &) = delete;
    Progress &operator=(const Progress &) = delete;

    bool shown() const { return m_shown; }
    // A new phase ("checking" bytes, then "importing" rows): the old one's line stays.
    void setWhat(const QString &what, const QString &unit);
    void setTotal(qint64 total);        // 0: unknown (no bar, no ETA)
    void update(qint64 done, bool force = false);
    void finish();  // the last state, and a newline

    // The line drawn for this state at this terminal width.
    static QString line(const QString &what, const QString &unit, qint64 done, qint64 total, double perSecond, int width);

private:
    void draw();

    bool m_shown = false;
    bool m_drawn = false;
    QString m_what;
    QString m_unit;
    qint64 m_done = 0;
    qint64 m_total = 0;
    QElapsedTimer m_clock;
    QElapsedTimer m_lastDraw;
};

} // namespace eventdesk::app

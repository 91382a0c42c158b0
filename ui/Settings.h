// What EventDesk remembers between runs, typed: every key is named once
// here, with its type and default. QSettings is behind it and nothing else
// calls QSettings. Some things are the DM's (the window's size, recent
// databases, desktop notifications); others belong to one database (its
// filters, its layout and columns): a world of one campaign means nothing in
// another's log.
#pragma once

#include "AppEvent.h"

#include <QByteArray>
#include <QList>
#include <QString>
#include <QStringList>

namespace eventdesk {

// The log's filter as the DM left it (LogFilter's state).
struct FilterState {
    QString world;            // a world id, NoWorldFilter for rows without one, empty: all
    QList<EventKind> kinds;   // empty: all
    QStringList tags;         // today's engine's messages, by tag
    bool hideProgress = false;
    QString text;
    int sinceSeconds = 0;     // 0: any time

    bool operator==(const FilterState &) const = default;
    bool isClear() const { return *this == FilterState{}; }
};

// The world filter's value for "(no world)".
inline constexpr char NoWorldFilter[] = "\x01none";

class Settings
{
public:
    // database: the log's location (a path or a Redis URL): the key of its own
    // settings. Empty: only the DM's own settings are at hand.
    explicit Settings(QString database = {});

    // The DM's.
    QByteArray windowGeometry() const;
    void setWindowGeometry(const QByteArray &geometry);
    bool hasWindowGeometry() const;
    QByteArray windowState() const;       // the last layout used, of any database
    void setWindowState(const QByteArray &state);
    QStringList recentDatabases() const;  // newest first, at most 8
    void addRecentDatabase(const QString &path);
    bool serveMetrics() const;            // /metrics on the session port while hosting; default off
    void setServeMetrics(bool on);
    QList<EventKind> notifyKinds() const; // desktop notifications; default the failed jobs
    void setNotifyKinds(const QList<EventKind> &kinds);
    QString recordEngine() const;         // File → Record an engine…; default ws://127.0.0.1:3000/ws
    void setRecordEngine(const QString &url);

    // This database's.
    QByteArray layout() const;            // docks and bars; default the last layout used
    void setLayout(const QByteArray &state);
    QByteArray columns() const;
    void setColumns(const QByteArray &state);
    FilterState filters() const;
    void setFilters(const FilterState &filters);

    // The key a database's settings live under ("filters/<16 hex>/"), for tests and people.
    QString databaseGroup() const { return m_group; }

private:
    QString m_group;
};

} // namespace eventdesk

// The log's filter: its state (world, types, progress rows, text, time), the
// EventQuery it makes, and remembering it per database. No widgets: the
// window's filter bar sets it and shows it, and the log model follows
// changed(). A new filter is a field of EventQuery (model/Ports.h), its SQL
// (bus/sqlite/LogQueries.cpp), a field here and one widget.
#pragma once

#include "Ports.h"
#include "Settings.h"

#include <QDateTime>
#include <QHash>
#include <QObject>

namespace eventdesk {

class LogFilter final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LogFilter)
public:
    explicit LogFilter(QObject *parent = nullptr);

    const FilterState &state() const { return m_state; }
    // Each setter says changed() when the query it makes changes (a time
    // filter always: "the last hour" moves on), and remembers the state for
    // the database restored last.
    void setState(const FilterState &state);
    void setWorld(const QString &world);  // an id, NoWorldFilter, or empty for all
    void setTypes(const QList<EventKind> &kinds, const QStringList &tags);
    void setHideProgress(bool hide);
    void setText(const QString &text);    // trimmed
    void setSince(int seconds);           // 0: any time
    void clear();
    // Display names by id: the text "Aria" also finds payloads holding the
    // ids of whatever is named so. Does not by itself say changed().
    void setNames(const QHash<QString, QString> &names);

    EventQuery query() const { return queryAt(QDateTime::currentDateTimeUtc()); }
    EventQuery queryAt(const QDateTime &now) const;

    // The state remembered for this database (nothing changes until then:
    // the filter of another campaign's log means nothing here); says changed().
    void restore(const QString &database);
    void save() const;

    // With textAlso's ids: at most this many (a name common to many things).
    static constexpr int MaxTextAlso = 64;

Q_SIGNALS:
    void changed(const EventQuery &query);

private:
    void update(FilterState next);

    FilterState m_state;
    QHash<QString, QString> m_names;
    QString m_database;
};

} // namespace eventdesk

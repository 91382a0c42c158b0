// The ports for what the window and the commands need beyond the event log
// (DESIGN §2): EventDesk's own records (challenges, audit log, display names),
// statistics, retention, and what a log reports about its file. The composition
// root picks the adapters once; ui/ and app/ commands see only these.
#pragma once

#include "Result.h"

#include <QDateTime>
#include <QFuture>
#include <QHash>
#include <QList>
#include <QObject>
#include <QString>

#include <atomic>
#include <memory>
#include <optional>

namespace eventdesk {

struct AuditEntry {
    qint64 id = 0;
    QDateTime at;
    QString actor;
    QString action;
    QString detail;
};

struct Challenge {
    QString id;
    QString worldId;
    QString name;
    int difficulty = 10;
};

// A character's rolls in a world: how many, how many succeeded (statistics,
// and the projector's Challenges tab).
struct ChallengeRate {
    QString worldId;
    QString characterId;
    qint64 attempts = 0;
    qint64 successes = 0;
};

struct BusStatistics {
    struct Count {
        QString key;   // a type, or a world ("" for events without one)
        qint64 count = 0;
    };
    qint64 total = 0;
    qint64 headId = 0;
    QDateTime firstAt;
    QDateTime lastAt;
    qint64 lastHour = 0;
    qint64 lastDay = 0;
    QList<Count> perType;
    QList<Count> perWorld;
    QList<ChallengeRate> challenges;
};

// EventDesk's own records, kept beside the events (never in the engine's file).
class DeskBook
{
public:
    virtual ~DeskBook() = default;

    virtual QFuture<Result<qint64>> audit(const QString &actor, const QString &action, const QString &detail) = 0;
    virtual QFuture<Result<QList<AuditEntry>>> auditLog(int limit, qint64 beforeId = 0) = 0;
    virtual QFuture<Result<Challenge>> addChallenge(const QString &worldId, const QString &name, int difficulty) = 0;
    virtual QFuture<Result<bool>> updateChallenge(const Challenge &challenge) = 0;
    virtual QFuture<Result<bool>> removeChallenge(const QString &id) = 0;
    virtual QFuture<Result<QList<Challenge>>> challenges(const QString &worldId = {}) = 0;  // empty: every world
    virtual QFuture<Result<std::optional<Challenge>>> challenge(const QString &id) = 0;
    // Display names of worlds and characters (kind "world" or "character"); an empty name forgets it.
    virtual QFuture<Result<bool>> setDisplayName(const QString &kind, const QString &id, const QString &name) = 0;
    virtual QFuture<Result<QHash<QString, QString>>> displayNames() = 0;  // id → name
    // The DM's settings for this database (the session's join code, …); empty: not set.
    virtual QFuture<Result<QString>> setting(const QString &key) = 0;
    virtual QFuture<Result<bool>> setSetting(const QString &key, const QString &value) = 0;
    // Nothing can be written (a read-only database): the window disables writing actions.
    virtual bool isReadOnly() const = 0;
    // Why it is read-only though it was opened to be written (a file of a
    // newer EventDesk, left as it is); empty otherwise.
    virtual QString readOnlyReason() const { return {}; }
};

// Counts per type and world, recent rates, challenge success by world and character.
class StatisticsSource
{
public:
    virtual ~StatisticsSource() = default;
    virtual QFuture<Result<BusStatistics>> statistics() = 0;
};

struct PruneOptions {
    QDateTime cutoff;          // events created before this go
    bool includeUnprocessed = false;
    bool dryRun = false;       // count only
    QString archivePath;       // .jsonl.gz; empty: next to the database, named by the time
    int pageSize = 1000;       // rows per transaction (1..1000)
    QString actor = QStringLiteral("eventdesk");  // for the audit log
    // Set (from any thread) to stop while the archive is being written: then
    // nothing is deleted and no archive is kept. Once the archive is whole the
    // deletion runs to its end.
    std::shared_ptr<std::atomic<bool>> cancel;
};

struct PruneReport {
    bool cancelled = false;      // stopped while archiving: nothing deleted, no archive
    qint64 matched = 0;          // rows older than the cutoff
    qint64 keptUnprocessed = 0;  // of those, kept because processed = 0
    bool ageAlone = false;       // no row of the log was ever processed: unprocessed ones go too
    qint64 deleted = 0;          // archived and deleted (0 on a dry run)
    qint64 firstId = 0;
    qint64 lastId = 0;
    int transactions = 0;
    QString archivePath;
    // A prune interrupted after its archive was whole (killed while deleting):
    // this run first deleted the rows that archive holds, without archiving them again.
    qint64 resumedDeleted = 0;
    QStringList resumedArchives;
};

// Importing a file of JSON lines into the log, all or nothing (bus/ImportFile.h):
// every line checked first, then all of them in one transaction.
struct ImportProgress {
    enum Phase { Checking, Importing };
    std::atomic<int> phase{Checking};
    std::atomic<qint64> done{0};   // bytes read while checking, rows written while importing
    std::atomic<qint64> total{0};  // the file's size, then the rows to write
    std::atomic<bool> cancel{false};  // set from any thread: nothing is imported
};

struct ImportReport {
    bool cancelled = false;
    qint64 count = 0;
    qint64 firstId = 0;
    qint64 lastId = 0;
};

class LogImport
{
public:
    virtual ~LogImport() = default;
    // Errors: InvalidEvent for a file refused (the message names the first bad
    // line), NotFound for a file with no event, Storage for one that cannot be read.
    virtual QFuture<Result<ImportReport>> importFile(const QString &path, std::shared_ptr<ImportProgress> progress) = 0;
};

// Archive, then delete, the events older than a cutoff (bus/Retention.h).
class Retention
{
public:
    virtual ~Retention() = default;
    virtual QFuture<Result<PruneReport>> prune(const PruneOptions &options) = 0;
};

// What a log says about its storage, for the window's banners and status bar.
class LogWatch : public QObject
{
    Q_OBJECT
public:
    using QObject::QObject;

    // The log's file cannot be written here: read-only everything.
    virtual bool isReadOnly() const = 0;
    // EventDesk's own database beside the log ("" when there is none).
    virtual QString deskLocation() const = 0;
    // Stop building the row index for now (it resumes on the next open).
    virtual void pauseIndexing() {}

Q_SIGNALS:
    // The file at the log's path is no longer the one opened (replaced by another).
    void fileReplaced();
    // Another process holds the write lock and writes are waiting (true), or not any more.
    void writesWaiting(bool waiting);
    // The row index the filters read: rows indexed up to indexedTo of head.
    // indexedTo == head: complete, the filters are fast.
    void indexProgress(qint64 indexedTo, qint64 head);
};

} // namespace eventdesk

Q_DECLARE_METATYPE(eventdesk::PruneReport)

// stats, challenge.
#include "Cli.h"

#include "Retention.h"
#include "StoreScans.h"
#include "Timestamp.h"

#include <QFileInfo>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

using namespace Qt::StringLiterals;

namespace eventdesk::app {

int statsCommand(const QStringList &args)
{
    CommandParser p(u"stats"_s, u"Counts per type and world, recent rates and challenge success."_s);
    const QCommandLineOption formatOption(u"format"_s, u"Output: table (default) or json."_s, u"format"_s, u"table"_s);
    p.addOption(formatOption);
    if (auto status = p.parse(args))
        return *status;
    const QString format = p.parser().value(formatOption);
    if (format != u"table"_s && format != u"json"_s)
        return usage(u"--format must be table or json, not '%1'"_s.arg(format.left(20)));
    auto opened = BusHandle::open(p.busConfig(true));
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();
    const Result<BusStatistics> r = wait(bus.statistics());
    if (!r)
        return fail(r.error().message);
    const BusStatistics &st = r.value();

    if (format == u"json"_s) {
        QJsonObject o{{u"total"_s, st.total}, {u"head_id"_s, st.headId}, {u"last_hour"_s, st.lastHour},
                      {u"last_day"_s, st.lastDay},
                      {u"first_at"_s, st.firstAt.isValid() ? QJsonValue(timestamp::format(st.firstAt)) : QJsonValue()},
                      {u"last_at"_s, st.lastAt.isValid() ? QJsonValue(timestamp::format(st.lastAt)) : QJsonValue()}};
        QJsonObject types, worlds;
        for (const auto &c : st.perType)
            types.insert(c.key, c.count);
        for (const auto &c : st.perWorld)
            worlds.insert(c.key.isEmpty() ? u"(no world)"_s : c.key, c.count);
        QJsonArray challenges;
        for (const auto &c : st.challenges)
            challenges.append(QJsonObject{{u"world_id"_s, c.worldId}, {u"character_id"_s, c.characterId},
                                          {u"attempts"_s, c.attempts}, {u"successes"_s, c.successes}});
        o.insert(u"per_type"_s, types);
        o.insert(u"per_world"_s, worlds);
        o.insert(u"challenges"_s, challenges);
        printOut(QJsonDocument(o).toJson(QJsonDocument::Indented));
        return ExitOk;
    }

    QString out;
    out += u"%1 events, last id %2\n"_s.arg(st.total).arg(st.headId);
    if (st.firstAt.isValid())
        out += u"from %1 to %2\n"_s.arg(st.firstAt.toLocalTime().toString(Qt::ISODate),
                                        st.lastAt.toLocalTime().toString(Qt::ISODate));
    out += u"last hour: %1 (%2 per minute), last day: %3\n\nBy type:\n"_s.arg(st.lastHour)
               .arg(double(st.lastHour) / 60.0, 0, 'f', 1)
               .arg(st.lastDay);
    for (const auto &c : st.perType)
        out += u"  %1 %2\n"_s.arg(c.key, -26).arg(c.count, 9);
    out += u"\nBy world:\n"_s;
    for (const auto &c : st.perWorld)
        out += u"  %1 %2\n"_s.arg(c.key.isEmpty() ? u"(no world)"_s : c.key, -38).arg(c.count, 9);
    if (!st.challenges.isEmpty()) {
        out += u"\nChallenge success:\n"_s;
        for (const auto &c : st.challenges)
            out += u"  %1 %2 %3/%4 (%5%)\n"_s.arg(c.worldId.left(38), -38)
                       .arg(c.characterId.left(16), -16)
                       .arg(c.successes)
                       .arg(c.attempts)
                       .arg(c.attempts ? 100.0 * double(c.successes) / double(c.attempts) : 0.0, 0, 'f', 0);
    }
    printOut(out.toUtf8());
    return ExitOk;
}

int challengeCommand(const QStringList &args)
{
    CommandParser p(u"challenge"_s, u"Define a world's challenges for players to roll against."_s, u"add|list"_s,
                    u"add: define one and print its id; list: show them."_s);
    const QCommandLineOption worldOption(u"world"_s, u"The world."_s, u"world"_s);
    const QCommandLineOption nameOption(u"name"_s, u"The challenge's name (add)."_s, u"name"_s);
    const QCommandLineOption difficultyOption(u"difficulty"_s, u"Total to reach on d20 + modifier, 1..40 (add)."_s, u"n"_s);
    const QCommandLineOption formatOption(u"format"_s, u"list output: table (default) or jsonl."_s, u"format"_s, u"table"_s);
    for (const auto &o : {worldOption, nameOption, difficultyOption, formatOption})
        p.addOption(o);
    if (auto status = p.parse(args))
        return *status;
    const QStringList positional = p.parser().positionalArguments();
    if (positional.size() != 1 || (positional.first() != u"add"_s && positional.first() != u"list"_s))
        return usage(u"challenge needs 'add' or 'list'"_s);

    if (positional.first() == u"add"_s) {
        const QString world = p.parser().value(worldOption).trimmed();
        const QString name = p.parser().value(nameOption).trimmed();
        if (world.isEmpty() || name.isEmpty() || !p.parser().isSet(difficultyOption))
            return usage(u"challenge add needs --world, --name and --difficulty"_s);
        int status = ExitOk;
        const auto difficulty = p.integer(u"difficulty"_s, 10, 1, 40, &status);
        if (!difficulty)
            return status;
        auto opened = BusHandle::open(p.busConfig());
        if (!opened)
            return failWith(opened.error());
        const Result<Challenge> r = wait(opened.value()->book()->addChallenge(world, name, int(*difficulty)));
        if (!r)
            return r.error().code == ErrorCode::Usage ? usage(r.error().message) : fail(r.error().message);
        printOut(r->id.toUtf8() + '\n');
        return ExitOk;
    }

    const QString format = p.parser().value(formatOption);
    if (format != u"table"_s && format != u"jsonl"_s)
        return usage(u"--format must be table or jsonl, not '%1'"_s.arg(format.left(20)));
    auto opened = BusHandle::open(p.busConfig(true));
    if (!opened)
        return failWith(opened.error());
    DeskBook *book = opened.value()->book();  // none yet: no challenges either
    const auto r = book ? wait(book->challenges(p.parser().value(worldOption))) : Result<QList<Challenge>>(QList<Challenge>{});
    if (!r)
        return fail(r.error().message);
    QByteArray out;
    for (const Challenge &c : r.value()) {
        if (format == u"jsonl"_s)
            out += QJsonDocument(QJsonObject{{u"id"_s, c.id}, {u"world_id"_s, c.worldId}, {u"name"_s, c.name},
                                             {u"difficulty"_s, c.difficulty}})
                       .toJson(QJsonDocument::Compact) + '\n';
        else
            out += u"%1  %2  %3  DC %4\n"_s.arg(c.id).arg(c.worldId.left(24), -24).arg(c.name, -30).arg(c.difficulty).toUtf8();
    }
    printOut(out);
    return ExitOk;
}

int pruneCommand(const QStringList &args)
{
    CommandParser p(u"prune"_s,
                    u"Archive, then delete, events older than a cutoff. The archive is a gzip file of JSON lines "
                    "that 'eventdesk import' reads back. Unprocessed events are kept unless --force."_s);
    const QCommandLineOption olderOption(u"older-than"_s, u"Age cutoff: 30d, 12h, 90m."_s, u"age"_s);
    const QCommandLineOption beforeOption(u"before"_s, u"Cutoff as an ISO-8601 time instead."_s, u"time"_s);
    const QCommandLineOption forceOption(u"force"_s, u"Also delete events not yet processed."_s);
    const QCommandLineOption dryRunOption(u"dry-run"_s, u"Only say what would go."_s);
    const QCommandLineOption archiveOption(u"archive"_s, u"The archive file (default: beside the database)."_s, u"file"_s);
    const QCommandLineOption quietOption(u"quiet"_s, u"No progress bar (there is one only when stderr is a terminal)."_s);
    for (const auto &o : {olderOption, beforeOption, forceOption, dryRunOption, archiveOption, quietOption})
        p.addOption(o);
    if (auto status = p.parse(args))
        return *status;
    QCommandLineParser &parser = p.parser();
    if (parser.isSet(olderOption) == parser.isSet(beforeOption))
        return usage(u"prune needs one of --older-than or --before"_s);

    PruneOptions options;
    if (parser.isSet(olderOption)) {
        const auto age = parseSpan(parser.value(olderOption), u"mhd");
        if (!age)
            return usage(u"--older-than must look like 30d, 12h or 90m, not '%1'"_s.arg(parser.value(olderOption).left(30)));
        options.cutoff = QDateTime::currentDateTimeUtc().addSecs(-*age);
    } else {
        options.cutoff = timestamp::parse(parser.value(beforeOption));
        if (!options.cutoff.isValid())
            return usage(u"--before: '%1' is not an ISO-8601 time"_s.arg(parser.value(beforeOption).left(40)));
    }
    options.includeUnprocessed = parser.isSet(forceOption);
    options.dryRun = parser.isSet(dryRunOption);
    options.archivePath = parser.value(archiveOption);
    options.actor = u"eventdesk prune"_s;
    if (!options.archivePath.isEmpty() && QFileInfo::exists(options.archivePath))
        return fail(u"the archive %1 exists already; choose another file"_s.arg(options.archivePath));

    auto opened = BusHandle::open(p.busConfig(options.dryRun));  // a dry run only reads
    if (!opened)
        return failWith(opened.error());
    BusHandle &bus = *opened.value();
    Progress progress(u"pruning"_s, u"rows"_s, parser.isSet(quietOption) || options.dryRun);
    QFuture<Result<PruneReport>> pruning = bus.retention().prune(options);
    // The future counts each row twice (archived, then deleted): rows half-way.
    const Result<PruneReport> r = waitShowing(pruning, progress, [&pruning] { return qint64(pruning.progressValue()) / 2; },
                                              [&pruning] { return qint64(pruning.progressMaximum()) / 2; });
    if (pruning.progressMaximum() > 0)
        progress.finish();
    if (!r)
        return fail(r.error().message);
    const PruneReport &rep = r.value();
    const QString cutoff = timestamp::format(options.cutoff);
    if (rep.ageAlone)
        printOut("no event in this log was ever marked processed: age alone decides\n");
    if (options.dryRun) {
        printOut(u"would archive and delete %1 events created before %2; %3 unprocessed would be kept\n"_s
                     .arg(rep.matched - rep.keptUnprocessed).arg(cutoff).arg(rep.keptUnprocessed).toUtf8());
        return ExitOk;
    }
    if (!rep.resumedArchives.isEmpty())
        printOut(u"finished an interrupted prune first: deleted %1 events that %2 holds\n"_s
                     .arg(rep.resumedDeleted).arg(rep.resumedArchives.join(u", "_s)).toUtf8());
    if (rep.deleted == 0) {
        printOut(u"nothing to prune before %1 (%2 unprocessed kept)\n"_s.arg(cutoff).arg(rep.keptUnprocessed).toUtf8());
        return ExitOk;
    }
    printOut(u"archived and deleted %1 events (ids %2–%3) in %4 transactions; %5 unprocessed kept\narchive: %6\n"_s
                 .arg(rep.deleted).arg(rep.firstId).arg(rep.lastId).arg(rep.transactions).arg(rep.keptUnprocessed)
                 .arg(rep.archivePath).toUtf8());
    return ExitOk;
}

} // namespace eventdesk::app

namespace eventdesk::app {

int nameCommand(const QStringList &args)
{
    CommandParser p(u"name"_s,
                    u"Give a world or a character a display name. The engine wants UUIDs for ids; the window, the "
                    "session and its players show these names instead."_s,
                    u"set|list"_s, u"set ID NAME (an empty NAME forgets it); list: show them."_s);
    const QCommandLineOption kindOption(u"kind"_s, u"What the id is: world or character (default character)."_s, u"kind"_s,
                                        u"character"_s);
    p.addOption(kindOption);
    if (auto status = p.parse(args))
        return *status;
    const QStringList positional = p.parser().positionalArguments();
    if (positional.isEmpty() || (positional.first() != u"set"_s && positional.first() != u"list"_s))
        return usage(u"name needs 'set ID NAME' or 'list'"_s);
    if (positional.first() == u"set"_s) {
        if (positional.size() != 3)
            return usage(u"name set needs an id and a name (quote a name with spaces)"_s);
        const QString kind = p.parser().value(kindOption);
        if (kind != u"world"_s && kind != u"character"_s)
            return usage(u"--kind must be world or character, not '%1'"_s.arg(kind.left(20)));
        const QString id = positional.at(1).trimmed();
        if (id.isEmpty() || id.size() > 200)
            return usage(u"name set needs an id of 1 to 200 characters"_s);
        auto opened = BusHandle::open(p.busConfig());
        if (!opened)
            return failWith(opened.error());
        const Result<bool> r = wait(opened.value()->book()->setDisplayName(kind, id, positional.at(2)));
        if (!r)
            return fail(r.error().message);
        return ExitOk;
    }
    if (positional.size() != 1)
        return usage(u"name list takes no arguments"_s);
    auto opened = BusHandle::open(p.busConfig(true));
    if (!opened)
        return failWith(opened.error());
    DeskBook *book = opened.value()->book();
    const auto r = book ? wait(book->displayNames()) : Result<QHash<QString, QString>>(QHash<QString, QString>{});
    if (!r)
        return fail(r.error().message);
    QStringList lines;
    for (auto it = r->begin(); it != r->end(); ++it)
        lines.append(u"%1  %2\n"_s.arg(it.key(), it.value()));
    lines.sort();
    printOut(lines.join(QString()).toUtf8());
    return ExitOk;
}

} // namespace eventdesk::app

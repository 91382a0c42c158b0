// The detail of one event: decoded fields, the pretty raw JSON (copyable), the
// decode error of a row that does not decode, and the processed toggle.
#pragma once

#include "Ports.h"

#include <QWidget>

class QLabel;
class QPushButton;
class QTextBrowser;

namespace eventdesk {

class EventLogModel;

class DetailPane final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(DetailPane)
public:
    explicit DetailPane(QWidget *parent = nullptr);
    void show(const StoredEvent *event);  // nullptr: nothing selected
    // The text filter's matches are marked in what is shown.
    void setHighlight(const QString &needle);
    // Summaries then name worlds and characters as the log does.
    void setModel(const EventLogModel *model) { m_model = model; }
    qint64 eventId() const { return m_id; }
    // A read-only log: the processed toggle is off, and says why.
    void setWritable(bool writable);

Q_SIGNALS:
    void processedToggled(qint64 id, bool processed);

private:
    QLabel *m_title;
    QTextBrowser *m_body;
    QPushButton *m_copy;
    QPushButton *m_processed;
    QByteArray m_raw;
    QString m_needle;
    const EventLogModel *m_model = nullptr;
    void markMatches();
    qint64 m_id = 0;
    bool m_isProcessed = false;
    bool m_writable = true;
};

} // namespace eventdesk

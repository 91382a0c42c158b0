// Text from outside — events, players, files, the network — shown as plain text.
//
// Qt guesses rich text wherever it can (tooltips, QLabel and QMessageBox on
// Qt::AutoText, via Qt::mightBeRichText), and rich text loads <img src=…> from
// disk: a player named <img src="/dev/zero"> made the window read that file
// until it ran out of memory. Every tooltip, label and message box that can hold
// such text goes through one of these; HTML we build ourselves escapes it.
#pragma once

#include <QString>

class QLabel;
class QWidget;

namespace eventdesk::plain {

// A tooltip that shows `text` literally: escaped, its line breaks kept. Empty
// stays empty (no tooltip).
QString toolTip(const QString &text);

// Outside text for HTML we build (a banner with our own <b>): escaped.
inline QString html(const QString &text) { return text.toHtmlEscaped(); }

// A label that never reads its text as markup; returns it for chaining.
QLabel *label(QLabel *label);

// A warning box that asks before an act that cannot be taken back: the act's
// own name on its button, Cancel the default. Its text is plain.
bool confirmAct(QWidget *parent, const QString &title, const QString &text, const QString &act);

// Yes/No with plain text; true for Yes.
bool ask(QWidget *parent, const QString &title, const QString &text);

// An information box with plain text.
void inform(QWidget *parent, const QString &title, const QString &text);

// An error box with plain text.
void critical(QWidget *parent, const QString &title, const QString &text);

} // namespace eventdesk::plain

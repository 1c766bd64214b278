import type { Hono } from 'hono'
import { ask, AskInput, type Answer } from '../../assistant/ask.js'
import { field, page, who, type Ui, type UiContext, type UiEnv } from './context.js'
import { Cites } from './components.js'
import { CsrfField, Layout } from './layout.js'

// On-call questions to the assistant's `ask`: a cited answer phrased uncertainty-first, or a refusal with its
// reason. Each answer is stored as an annotation (an assessment of subject `question`), so its citations link
// to the same evidence page as an alert's.

export const UiAskInput = AskInput

function chatPage(c: UiContext, ui: Ui, shown: { question?: string; answer?: Answer; error?: string }, status: 200 | 422 = 200) {
  const { principal, csrf } = who(c, ui)
  const a = shown.answer
  return page(
    c,
    <Layout title="Ask" principal={principal} csrf={csrf}>
      <h1>Ask the knowledge base</h1>
      <form class="decide" method="post" action="/ui/chat">
        <CsrfField token={csrf} />
        <label>Question<textarea name="question" required maxlength={2000}>{shown.question ?? ''}</textarea></label>
        <label>Service (optional) <input type="text" name="service" maxlength={200} /></label>{' '}
        <button type="submit">Ask</button>
      </form>
      {shown.error ? <p class="error" role="alert">{shown.error}</p> : null}
      {a ? (
        <section id="answer" data-answer={a.id}>
          <h2>You asked</h2>
          <p id="question">{shown.question}</p>
          {a.injectionFlagged ? <p class="warn">Instructions were detected in the question or the passages. They were treated as data.</p> : null}
          {a.refused ? (
            <p class="error" role="alert" data-refusal={a.refused}>Refused (<code>{a.refused}</code>): {a.text}</p>
          ) : (
            <>
              <h2>Answer</h2>
              <p class="muted">Not certain; the closest passages suggest:</p>
              <ul>{a.sentences.map((s) => <li>{s.text}<Cites assessmentId={a.id} refs={s.citations} /></li>)}</ul>
              <h2>Sources</h2>
              <ul>{a.citations.map((s) => <li>{s.ref}: {s.title} <span class="muted">{s.sourceUri ?? ''} {s.headingPath.join(' › ')}</span></li>)}</ul>
            </>
          )}
          <p class="muted">{a.provenance.mode} ({a.provenance.model}){a.provenance.fallbackReason ? ` · fallback: ${a.provenance.fallbackReason}` : ''}</p>
        </section>
      ) : null}
    </Layout>,
    status,
  )
}

export function registerChat(r: Hono<UiEnv>, ui: Ui): void {
  r.get('/chat', (c) => chatPage(c, ui, {}))

  r.post('/chat', async (c) => {
    const form = c.get('form')
    const question = field(form, 'question')
    const input = UiAskInput.safeParse({ question, service: field(form, 'service').trim() || undefined })
    if (!input.success) return chatPage(c, ui, { question, error: `The question does not fit: ${input.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` }, 422)
    return chatPage(c, ui, { question: input.data.question, answer: await ask(ui.deps, input.data) })
  })
}

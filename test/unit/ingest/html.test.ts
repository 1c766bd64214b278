import { describe, it, expect } from 'vitest'
import { htmlToMarkdown, htmlToSections, parseHtmlPage } from '../../../ingest/parse/html.js'

const PAGE = `<!doctype html><html><head><title>Runbook &amp; Guide</title>
<style>.secret-style{color:red}</style><script>window.secretScript = 1</script></head>
<body><nav><a href="/">NavHome</a></nav>
<h1>Runbook &amp; Guide</h1>
<p>Intro with <strong>bold</strong> &lt;tag&gt; and cost_center &#8217;quoted&#8217;.</p>
<h2 id="steps">Steps</h2><ul><li>first</li><li>second</li></ul>
<pre><code class="language-bash"># not a heading
echo &quot;hi&quot;</code></pre>
<h3>Check</h3>
<table><thead><tr><th>Metric</th><th>Value</th></tr></thead><tbody><tr><td>p95</td><td>120 | ms</td></tr></tbody></table>
<h2>Empty</h2>
<h2>Notes</h2><p># looks like a heading</p><img src="x.png" alt="diagram of flow">
<footer>FooterText</footer></body></html>`

describe('htmlToSections', () => {
  const sections = htmlToSections(PAGE, 'Runbook & Guide')

  it('splits on converted headings, keeping the heading path and not duplicating an H1 equal to the title', () => {
    expect(sections.map((s) => s.headingPath)).toEqual([
      ['Runbook & Guide'],
      ['Runbook & Guide', 'Steps'],
      ['Runbook & Guide', 'Steps', 'Check'],
      ['Runbook & Guide', 'Notes'],
    ])
  })

  it('decodes entities, uses "-" bullets and fenced code, and keeps "#" lines inside code as code', () => {
    expect(sections[0]!.text).toBe('Intro with **bold** <tag> and cost_center ’quoted’.')
    expect(sections[1]!.text).toBe('-   first\n-   second\n\n```bash\n# not a heading\necho "hi"\n```')
  })

  it('renders tables as pipe rows with a header separator, escaping pipes in cells', () => {
    expect(sections[2]!.text).toBe('| Metric | Value |\n| --- | --- |\n| p95 | 120 \\| ms |')
  })

  it('escapes text that would look like a heading and replaces images by their alt text', () => {
    expect(sections[3]!.text).toBe('\\# looks like a heading\n\ndiagram of flow')
  })

  it('strips script, style, nav, footer and the <title> element', () => {
    const all = htmlToMarkdown(PAGE)
    for (const gone of ['secretScript', 'secret-style', 'NavHome', 'FooterText']) expect(all).not.toContain(gone)
    expect(all.startsWith('# Runbook & Guide\n\n')).toBe(true)
  })
})

describe('parseHtmlPage', () => {
  it('produces one doc source titled from <title>', () => {
    const r = parseHtmlPage({ uri: 'https://wiki.example/runbook.html', content: PAGE })
    expect(r.ok).toBe(true)
    if (!r.ok) return
    expect(r.sources).toHaveLength(1)
    const src = r.sources[0]!
    expect({ ...src, sections: src.sections.length }).toEqual({
      uri: 'https://wiki.example/runbook.html',
      kind: 'doc',
      title: 'Runbook & Guide',
      service: null,
      team: null,
      tags: [],
      metadata: {},
      sections: 4,
    })
  })

  it('falls back to the first h1, then to the file name', () => {
    const h1 = parseHtmlPage({ uri: 'p.html', content: '<h2>Before</h2><p>x</p><h1>The <em>Real</em> One</h1><p>y</p>' })
    expect(h1.ok && h1.sources[0]!.title).toBe('The _Real_ One')
    const file = parseHtmlPage({ uri: 'https://h.example/docs/deploy-guide.html?x=1', content: '<p>Only text.</p>' })
    expect(file.ok && file.sources[0]).toMatchObject({
      title: 'deploy-guide',
      sections: [{ headingPath: ['deploy-guide'], text: 'Only text.' }],
    })
  })

  it('quarantines a page without text as empty', () => {
    expect(parseHtmlPage({ uri: 'p.html', content: '<html><head><title>T</title><script>x()</script></head><body><h1>T</h1></body></html>' })).toEqual({
      ok: false,
      reason: 'empty',
      detail: 'HTML page has no text content',
    })
  })
})

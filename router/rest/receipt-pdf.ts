import PDFDocument from 'pdfkit';

export interface ReceiptLine {
  when: string;
  model: string;
  tokens: number;
  amount: string;
}

export interface Receipt {
  sessionId: string;
  title: string;
  agent: string | null;
  startedAt: string;
  closedAt: string;
  lines: ReceiptLine[];
  /** Turns beyond the listed ones, counted in the total but not itemised. */
  moreLines: number;
  total: string;
  currency: string;
}

/** A one-session receipt as a PDF document, laid out by pdfkit with its built-in Helvetica. */
export function receiptPdf(receipt: Receipt): Promise<Buffer> {
  const doc = new PDFDocument({
    size: 'A4',
    margin: 50,
    info: {
      Title: `Receipt ${receipt.sessionId}`,
      Producer: 'Agentry',
      CreationDate: new Date(receipt.closedAt),
    },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });

  doc.font('Helvetica-Bold').fontSize(18).text('Session receipt');
  doc.moveDown(0.5).font('Helvetica').fontSize(10);
  doc.text(`Session: ${receipt.sessionId}`);
  doc.text(`Title: ${receipt.title}`);
  if (receipt.agent) doc.text(`Agent: ${receipt.agent}`);
  doc.text(`Started: ${receipt.startedAt}`);
  doc.text(`Closed: ${receipt.closedAt}`);
  doc.moveDown();
  doc.font('Helvetica-Bold').text('When / model / tokens / amount');
  doc.font('Helvetica');
  for (const line of receipt.lines)
    doc.text(`${line.when}   ${line.model}   ${line.tokens} tokens   ${line.amount} ${receipt.currency}`);
  if (receipt.moreLines > 0) doc.text(`... and ${receipt.moreLines} earlier answers`);
  doc.moveDown();
  doc.font('Helvetica-Bold').fontSize(12).text(`Total: ${receipt.total} ${receipt.currency}`);
  doc.end();
  return done;
}

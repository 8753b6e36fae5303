import { useState } from "react";

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 2000);
    } catch {
      // Clipboard refused (insecure origin): the text stays selectable on the page.
    }
  };
  return (
    <button type="button" className="small" onClick={() => void copy()}>
      {copied ? "Copied" : label}
    </button>
  );
}

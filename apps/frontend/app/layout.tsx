import type { Metadata } from "next";
import type { ReactNode } from "react";

import "./globals.css";

// Every page depends on the session cookie and on configuration read at request time;
// nothing may be prerendered at build time, when no configuration exists.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "TaskFlow",
  description: "Tasks with an assistant",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}

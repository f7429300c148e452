// Stripe.js loaded on demand from the URL the order names (js.stripe.com in AWS; localstripe's
// fake Stripe.js under `make dev`). Only the calls the pay page makes are typed.

export interface StripeError {
  message?: string;
  code?: string;
}
export interface CardElement {
  mount(el: HTMLElement | string): void;
  destroy(): void;
}
export interface StripeLike {
  elements(): { create(kind: "card", opts?: object): CardElement };
  createPaymentMethod(opts: { type: "card"; card: CardElement }): Promise<{ paymentMethod?: { id: string }; error?: StripeError }>;
  handleNextAction?(opts: { clientSecret: string }): Promise<{ error?: StripeError }>;
  confirmAlipayPayment?(secret: string, opts: object): Promise<{ error?: StripeError }>;
  confirmWechatPayPayment?(secret: string, opts: object): Promise<{ error?: StripeError }>;
}

declare global {
  interface Window {
    Stripe?: (key: string) => StripeLike;
  }
}

const loaded = new Map<string, Promise<void>>();

function load(url: string): Promise<void> {
  let p = loaded.get(url);
  if (!p) {
    p = new Promise<void>((resolve, reject) => {
      const s = document.createElement("script");
      s.src = url;
      s.async = true;
      s.onload = () => resolve();
      s.onerror = () => {
        loaded.delete(url);
        s.remove();
        reject(new Error("stripe.js"));
      };
      document.head.appendChild(s);
    });
    loaded.set(url, p);
  }
  return p;
}

export async function stripeFor(url: string, publishableKey: string): Promise<StripeLike> {
  await load(url);
  if (!window.Stripe) throw new Error("stripe.js");
  return window.Stripe(publishableKey);
}

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app/App';
import { SessionProvider } from './app/session';
import { ToastProvider } from './ui/Toasts';
import './styles.css';
import './styles-content.css';
import './styles-overlays.css';
import './styles-screens.css';
import './styles-detail.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <SessionProvider>
      <ToastProvider>
        <App />
      </ToastProvider>
    </SessionProvider>
  </StrictMode>,
);

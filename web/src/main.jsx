import { render } from 'preact';
import '@uppy/core/css/style.min.css';
import '@uppy/dashboard/css/style.min.css';
import './styles/app.css';
import './styles/worklist-audit.css';
import { App } from './app.jsx';

render(<App />, document.getElementById('app'));
